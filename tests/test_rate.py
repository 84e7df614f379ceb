"""Rate adapter: its time-on-air model matches channel_sim, its choices follow the channel,
and on SNR processes it keeps segments within the budget."""

import math

import numpy as np
import pytest

from channel_sim import AwgnBitChannel, GaussMarkovSnr
from mirage_stream.bench.rate import RateBenchConfig, run_process, snr_processes
from mirage_stream.codecs.distortion_model import load_quality
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import SenderRecord
from mirage_stream.sender import Granularity, SceneAnalyser
from mirage_stream.sender.airtime_adapter import (
    AirtimeRateAdapter,
    LinkModel,
    light_fec_residual_ber,
    time_on_air_s,
)
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.factory import build_sender
from mirage_stream.types import ChannelFeedback, EncodedKeyframe, SceneFacts, SemanticPayload
from mirage_stream.wire import encode_payload_image
from tests.conftest import panning_segment


def _adapter(budget_ms, snr_db, **kwargs):
    adapter = AirtimeRateAdapter(load_quality(), budget_s=budget_ms / 1000, **kwargs)
    for index in range(5):  # a steady channel, reported by the receiver
        adapter.observe(ChannelFeedback(index, snr_db))
    return adapter


def test_quality_table_covers_the_shipped_codecs():
    table = load_quality()
    assert {"vq:K256", "ae:q8"} <= set(table)
    k256 = table["vq:K256"]
    assert k256.keyframe_bytes == 256 and k256.bits_per_symbol == 8
    assert k256.expected_mse(0.1) > k256.expected_mse(0.0) == pytest.approx(k256.clean_mse)
    assert table["ae:q8"].clean_mse < k256.clean_mse
    # Every variant the learned codecs ship is modelled: the list comes from the codecs
    # themselves (``CodecBackend.variants``), which bench codec and table1 read too.
    from mirage_stream.codecs import CODECS, codec_settings
    from mirage_stream.codecs.distortion_model import modelled_settings

    assert set(modelled_settings()) == set(table)
    assert codec_settings(("vq",)) == [f"vq:{v}" for v in CODECS.factory("vq").variants()]
    assert codec_settings(("thumbnail", "ae:q4")) == ["thumbnail", "ae:q4"]


def test_light_fec_leaves_fewer_errors_where_it_can_correct():
    assert light_fec_residual_ber(1e-3, 0) == 1e-3
    assert light_fec_residual_ber(1e-3, 16) < 1e-6
    assert light_fec_residual_ber(0.11, 16) == pytest.approx(0.11, rel=1e-3)  # hopeless


@pytest.mark.parametrize(("snr_db", "parity"), [(5.0, 0), (5.0, 16), (10.0, 8)])
def test_predicted_time_on_air_equals_channel_sim(snr_db, parity):
    payload = SemanticPayload(
        segment_index=0,
        t0=0.0,
        duration=2.0,
        fps=25.0,
        width=320,
        height=240,
        num_frames=50,
        caption="One person is in view. The person talks. The camera is almost still.",
        facts=SceneFacts(),
        keyframes=(EncodedKeyframe("vq", "K256", (16, 16), bytes(range(256))),),
        keyframe_fec_parity=parity,
    )
    image = encode_payload_image(payload)
    exposed = sum(length for _, length in image.exposed_spans)
    sent = AwgnBitChannel().send(
        image.data, snr_db, np.random.default_rng(0), image.exposed_spans, parity
    )
    assert sent.tries == 1
    one_try = LinkModel(tries_quantile=0.0)  # budget a single try, as this draw needed
    predicted = time_on_air_s(one_try, len(image.data) - exposed, exposed, parity, snr_db)
    assert predicted == pytest.approx(sent.time_on_air_s, rel=1e-9)
    # The default budgets enough tries that more are needed at most 0.5% of the time.
    budgeted = time_on_air_s(LinkModel(), len(image.data) - exposed, exposed, parity, snr_db)
    assert budgeted >= predicted


def test_a_good_channel_buys_the_high_fidelity_codec():
    plan = _adapter(budget_ms=40, snr_db=15.0).plan()
    assert plan.codec.startswith("ae:") and plan.within_budget
    assert plan.predicted_time_on_air_s <= 0.040


def test_a_bad_channel_falls_back_to_vq_indices():
    plan = _adapter(budget_ms=20, snr_db=-10.0).plan()
    assert plan.codec.startswith("vq:") and plan.keyframes >= 1 and plan.within_budget


def test_a_tighter_budget_never_raises_the_cost():
    loose = _adapter(budget_ms=20, snr_db=-10.0).plan()
    tight = _adapter(budget_ms=2, snr_db=-10.0).plan()
    assert tight.predicted_time_on_air_s <= loose.predicted_time_on_air_s
    assert tight.predicted_mse >= loose.predicted_mse


def test_an_impossible_budget_sends_the_least_and_says_so():
    plan = _adapter(budget_ms=0.01, snr_db=-10.0).plan()
    assert not plan.within_budget
    assert plan.keyframes == 0 and plan.granularity is Granularity.SHORT


def test_the_plan_follows_the_reported_snr():
    adapter = _adapter(budget_ms=20, snr_db=0.0)
    high = adapter.planned_snr_db()
    for index in range(5, 10):
        adapter.observe(ChannelFeedback(index, -12.0))
    assert adapter.planned_snr_db() < -12.0 < high


def test_before_feedback_the_prior_is_used_with_a_margin():
    adapter = AirtimeRateAdapter(load_quality(), budget_s=0.02, initial_snr_db=-10.0)
    assert adapter.planned_snr_db() == pytest.approx(-13.0)


def test_sender_with_rate_adapter_plans_and_resends_after_damage():
    feedback = FeedbackInbox()
    sender = build_sender(SenderConfig(latency_budget_ms=20.0), feedback)
    segment = panning_segment(0, 0)
    trace = SegmentTrace(index=0)
    first = sender.describe(segment, trace)
    assert first is not None and first.keyframes
    assert trace.record(SenderRecord).plan.within_budget
    # Same scene again: nothing new to send.
    second = sender.describe(segment, SegmentTrace(index=1))
    assert second is not None and second.keyframes == ()
    # The receiver reports the keyframe damaged: the sender sends a fresh one.
    feedback.post(ChannelFeedback(1, -10.0, keyframe_damaged=True))
    third = sender.describe(segment, SegmentTrace(index=2))
    assert third is not None and len(third.keyframes) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("process", ["constant", "random-walk", "gilbert-elliott"])
def test_budget_is_met_in_99_percent_of_segments(process):
    segments = 150
    config = RateBenchConfig(segments=segments, budget_ms=20.0)
    analyses = [SceneAnalyser().analyse(panning_segment(dx, 0)) for dx in (0, 2, 4)]
    result = run_process(process, snr_processes(config)[process], analyses, config)
    # The target is 99%; the seeded run must not fall below it by more than 2.58 standard
    # errors of a 150-segment estimate.
    floor = 0.99 - 2.58 * math.sqrt(0.99 * 0.01 / segments)
    assert result.budget_met_share >= floor


def test_random_walk_snr_process_is_available():
    assert isinstance(snr_processes(RateBenchConfig())["random-walk"], GaussMarkovSnr)
