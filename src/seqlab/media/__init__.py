"""Media a run leaves: matplotlib figures and MIDI / audio."""
