"""Chorales a person can hear and see: MIDI (mido), a WAV from a small numpy synthesiser, and a
piano roll. A chorale is an array ``(steps, voices)`` of MIDI keys, 0 meaning a rest."""

from __future__ import annotations

import wave
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mido  # noqa: E402
import numpy as np  # noqa: E402

TEMPO_BPM = 160  # one chord step per beat, as the reference plays its chorales
TICKS_PER_STEP = 480


def held_notes(voice: np.ndarray) -> list[tuple[int, int, int]]:
    """``(start step, steps held, key)`` for each note of one voice: a repeated key is held."""
    notes: list[tuple[int, int, int]] = []
    for step, key in enumerate(int(k) for k in voice):
        if notes and key and notes[-1][2] == key and sum(notes[-1][:2]) == step:
            start, length, _ = notes[-1]
            notes[-1] = (start, length + 1, key)
        elif key:
            notes.append((step, 1, key))
    return notes


def write_midi(chords: np.ndarray, path: Path, tempo_bpm: int = TEMPO_BPM) -> Path:
    """One track, one channel, every voice's held notes as note-on / note-off pairs."""
    events: list[tuple[int, int, int]] = []  # (tick, 0 = off before 1 = on, key)
    for voice in np.asarray(chords).T:
        for start, length, key in held_notes(voice):
            events += [
                (start * TICKS_PER_STEP, 1, key),
                ((start + length) * TICKS_PER_STEP, 0, key),
            ]
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    now = 0
    for tick, on, key in sorted(events):
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=key, velocity=80 if on else 0, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_STEP)
    midi.tracks.append(track)
    midi.save(str(path))
    return path


def synthesise(
    chords: np.ndarray, tempo_bpm: int = TEMPO_BPM, sample_rate: int = 22050
) -> np.ndarray:
    """Float samples in [-1, 1]: each held note a few decaying harmonics with a soft attack."""
    chords = np.asarray(chords)
    step = 60.0 / tempo_bpm
    audio = np.zeros(int(len(chords) * step * sample_rate) + 1)
    for voice in chords.T:
        for start, length, key in held_notes(voice):
            n = int(length * step * sample_rate)
            t = np.arange(n) / sample_rate
            freq = 440.0 * 2 ** ((key - 69) / 12)
            tone = sum(np.sin(2 * np.pi * h * freq * t) / h**1.5 for h in (1, 2, 3, 4))
            envelope = (
                np.minimum(1.0, t / 0.02)
                * np.exp(-1.5 * t)
                * np.minimum(1.0, (n - np.arange(n)) / 200)
            )
            begin = int(start * step * sample_rate)
            audio[begin : begin + n] += tone * envelope
    peak = np.abs(audio).max()
    return audio / peak * 0.8 if peak > 0 else audio


def write_wav(chords: np.ndarray, path: Path, sample_rate: int = 22050) -> Path:
    """16-bit mono WAV of `synthesise`."""
    samples = (synthesise(chords, sample_rate=sample_rate) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    return path


def plot_piano_roll(chords: np.ndarray, prompt_steps: int, path: Path, title: str) -> Path:
    """Keys over time, one colour per voice, the prompt shaded: where the model took over."""
    chords = np.asarray(chords)
    fig, ax = plt.subplots(figsize=(max(8.0, len(chords) / 8), 4.5), layout="constrained")
    ax.axvspan(0, prompt_steps, color="0.9", label="prompt")
    for v, voice in enumerate(chords.T):
        for i, (start, length, key) in enumerate(held_notes(voice)):
            label = f"voice {v + 1}" if i == 0 else None
            ax.broken_barh([(start, length)], (key - 0.4, 0.8), color=f"C{v}", label=label)
    keys = chords[chords > 0]
    if keys.size:
        ax.set_ylim(keys.min() - 2, keys.max() + 2)
    ax.set_xlim(0, len(chords))
    ax.set_xlabel("step (chord)")
    ax.set_ylabel("MIDI key")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small", ncols=5)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
