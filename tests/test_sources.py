import numpy as np
import pytest

from mirage_stream.errors import InputError
from mirage_stream.sources import FileSource, SourceConfig, fit_frame, resolve_input, sample_path
from tests.conftest import textured_image, write_video


def test_samples_resolve_without_download():
    for name in ("carphone", "bikes", "bigbuckbunny"):
        assert sample_path(name).is_file()
    assert resolve_input("sample:carphone") == sample_path("carphone")


@pytest.mark.parametrize("spec", ["sample:nope", "/no/such/file.mp4"])
def test_bad_input_specs(spec):
    with pytest.raises(InputError):
        resolve_input(spec)


def test_directory_is_not_a_video(tmp_path):
    with pytest.raises(InputError, match="not a file"):
        resolve_input(str(tmp_path))


def test_text_file_is_not_a_video(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video")
    with pytest.raises(InputError, match="not a video"):
        FileSource(bogus)


def test_fit_frame_crops_to_aspect_then_resizes():
    wide = np.zeros((100, 400, 3), dtype=np.uint8)
    wide[:, 150:250] = 255  # a white centre band survives the crop
    fitted = fit_frame(wide, 320, 240)
    assert fitted.shape == (240, 320, 3)
    assert fitted[:, 160].mean() > 250 and fitted[:, 0].mean() < 5


@pytest.mark.parametrize(("suffix", "codec"), [(".mkv", "libx264"), (".avi", "mpeg4")])
def test_odd_sized_video_in_other_containers(tmp_path, suffix, codec):
    frames = np.stack([textured_image(70, 100, seed=i) for i in range(7)])
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=10, codec=codec)
    source = FileSource(path, SourceConfig(width=64, height=48))
    assert source.fps == pytest.approx(10.0)
    got = source.read_frames(100)
    source.close()
    assert len(got) == 7 and got[0].shape == (48, 64, 3)


def test_config_rejects_bad_sizes():
    with pytest.raises(InputError):
        SourceConfig(width=321)
    with pytest.raises(InputError):
        SourceConfig(max_seconds=0)


def test_a_looped_file_is_decoded_once_and_replayed_as_copies(monkeypatch):
    import asyncio

    from mirage_stream.sources.config import InputConfig
    from mirage_stream.sources.stream import SegmentStream

    opened = []
    config = InputConfig(input="sample:carphone", segment_s=2.0, loop=True)
    stream = SegmentStream(config, total_seconds=12.0)  # carphone is 4 s: three passes
    original = stream._open
    monkeypatch.setattr(stream, "_open", lambda: opened.append(1) or original())

    async def read():
        segments, means = [], []
        async for envelope in stream.envelopes():
            segments.append(envelope.item)
            means.append(float(envelope.item.frames.mean()))
            envelope.item.frames[:] = 0  # a stage writing into its frames ...
        return segments, means

    segments, means = asyncio.run(read())
    stream.close()
    assert [s.index for s in segments] == list(range(6))
    assert [s.t0 for s in segments] == pytest.approx([0, 2, 4, 6, 8, 10], abs=0.05)
    assert opened == []  # the first pass used the source opened at start; none after
    # ... reaches no later pass: each replays the first pass's pictures.
    assert means[2:4] == means[0:2] == means[4:6] and min(means) > 0
