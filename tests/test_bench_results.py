"""Bench results are dataclasses; their JSON keys stay the ones users' scripts read.

Each list below is the key set a bench printed as a plain dict before it became a dataclass
(every bench now returns one): renaming a field breaks this test, as it would break a user's
script."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mirage_stream.bench.call import CallBenchResult, DirectionResult
from mirage_stream.bench.caption import CaptionBenchResult
from mirage_stream.bench.caption_score import CaptionScore, FactScore, FalseStatement
from mirage_stream.bench.channel import BerRow, CaptionDelivery, ChannelBenchResult, DeliveryPlan
from mirage_stream.bench.codec import CodecBenchResult, CodecRow, RobustnessRow
from mirage_stream.bench.cost_profile import CostProfile, CostRow
from mirage_stream.bench.endurance import EnduranceResult
from mirage_stream.bench.faults import FaultOutcome, FaultsBenchResult
from mirage_stream.bench.fuzz import FuzzResult
from mirage_stream.bench.generator import GeneratorBenchResult
from mirage_stream.bench.live import GenerationEnd, LiveBenchResult
from mirage_stream.bench.paper import PaperBenchResult
from mirage_stream.bench.picture import PictureBenchResult, PictureRow, SnrSummary
from mirage_stream.bench.rate import ProcessRow, RateBenchResult
from mirage_stream.bench.receiver import ReceiverBenchResult, StyleScore
from mirage_stream.bench.sender import SenderBenchResult, SenderSegment
from mirage_stream.bench.table1 import MirageRow, RawRow, Table1Result
from mirage_stream.cli.common import print_json

KEYS = {
    LiveBenchResult: "calls input seconds_per_call segment_s snr_db g2g_p50_s g2g_p95_s "
    "segments_sent segments_played segments_lost segments_skipped captions_lost cpu_per_call "
    "wall_s held_real_time generation segments_captured segments_shed shed_share segments_light "
    "latency_bounded shed_share_per_call profile",
    GenerationEnd: "setting s_per_generated_s changes",
    CallBenchResult: "input camera_size two_way seconds segment_s snr_db segments_sent "
    "segments_played segments_lost segments_skipped segments_not_sent segments_measured_in_page "
    "g2g_p50_s g2g_p95_s first_frame_s first_reference_frame_s segments_reenacted cpu_per_call "
    "browser_cpu held_real_time directions wall_s",
    DirectionResult: "segments_sent segments_played segments_lost segments_skipped "
    "segments_not_sent segments_measured_in_page g2g_p50_s g2g_p95_s first_frame_s "
    "first_reference_frame_s segments_reenacted payload_bytes_per_segment",
    GeneratorBenchResult: "model pipeline family continues device dtype params width height "
    "frames steps s_per_generated_s first_frame_s segment_s text_encoder_s peak_memory_mb build_s "
    "notes",
    FuzzResult: "cases crashes hangs max_rss_mb targets failures seed wall_s",
    ReceiverBenchResult: "input snr_db codec segments video_s rtf stages queue_depth_max sbert "
    "mean_psnr_db per_segment styles label_facts",
    StyleScore: "style codec sbert bertscore_f1",
    CostProfile: "rows process_cpu_s stages_cpu_s agreement agrees",
    SenderBenchResult: "input segments video_s rtf stages source_rtf peak_rss_mb bytes_per_segment "
    "keyframes_skipped bytes_saved_by_skipping bytes_saved_share options per_segment",
    SenderSegment: "index seconds bytes keyframes keyframe_skipped codec granularity caption",
    FaultsBenchResult: "faults recovered total hangs wall_s",
    EnduranceResult: "minutes calls factor segments_sent segments_played segments_skipped "
    "segments_lost segments_unaccounted sender_dropped segments_cut_in_playout rss_start_mb "
    "rss_end_mb rss_max_mb rss_growth_mb rss_growth_pct fd_growth tasks_growth "
    "sender_peak_rss_mb longest_stall_ms longest_stall_at_s stall_p99_ms "
    "g2g_p95_first_minute_s g2g_p95_last_minute_s wall_s",
    FaultOutcome: "fault outcome handled recovered seconds lost",
    CostRow: "end stage cpu_ms_per_s share",
    ChannelBenchResult: "ber throughput_mbit_s caption caption_low_ber table1_raw_latency_ms "
    "paper_raw_latency_ms",
    BerRow: "model snr_db theory measured bits errors",
    CaptionDelivery: "trials bytes snr_db ber undetected_errors failed mean_tries overhead_ratio "
    "mean_channel_bits mean_time_on_air_ms predicted_mean_tries residual_block_error "
    "real_rs_decodes plan seconds",
    DeliveryPlan: "repetition rs_parity_bytes codewords codeword_bytes channel_bits_per_try",
    RateBenchResult: "input budget_ms snr_db snr_std_db snr_bad_db estimate_noise_db "
    "granularities processes budget_met_min",
    ProcessRow: "process segments budget_met_share mean_time_on_air_ms p99_time_on_air_ms "
    "max_time_on_air_ms mean_predicted_mse plans",
    Table1Result: "input frames width height snr_db bandwidth_hz overhead_ms rows paper",
    RawRow: "scheme bytes bpp latency_ms data_speedup latency_speedup",
    MirageRow: "scheme bytes keyframe_bytes bpp latency_ms data_speedup latency_speedup parts",
    CodecBenchResult: "input frames size rows robustness",
    CodecRow: "codec K variant q budget_bytes bytes bpp psnr_db ssim sharpness face_found ms "
    "codebook_usage fits_budget",
    RobustnessRow: "ber lattice_psnr_db random_psnr_db",
    PictureBenchResult: "rows summary figure",
    PictureRow: "input snr_db mean_psnr_db hold_psnr_db above_hold_db ghosting face_found_rate "
    "payload_bytes_per_segment time_on_air_ms_per_segment time_on_air_ms_max time_on_air_ms "
    "keyframes_protected_share bit_errors segments motion_track",
    SnrSummary: "runs runs_below_hold mean_above_hold_db min_above_hold_db mean_ghosting",
    PaperBenchResult: "conventions tables baselines crossover_snr_db executor points wall_s report",
    CaptionBenchResult: "input sets captions peak_rss_mb",
    CaptionScore: "clips segments facts false_statements people_recall people_clips "
    "count_accuracy vehicle_recall hands_recall expression_recall looks_recall glasses_recall "
    "setting_accuracy action_recall walking_recall rtf",
    FactScore: "precision recall stated false labelled",
    FalseStatement: "clip fact claim sentence",
}


@pytest.mark.parametrize("kind", list(KEYS), ids=lambda kind: kind.__name__)
def test_bench_result_keys_stay(kind):
    printed = [f.name for f in dataclasses.fields(kind) if not f.metadata.get("not_printed")]
    assert printed == KEYS[kind].split()


def test_a_field_kept_for_a_plot_is_not_printed_and_an_unset_one_only_when_set(capsys):
    from mirage_stream.bench.rate import RateSeries

    row = ProcessRow("constant", 2, 1.0, 3.0, 4.0, 4.0, 0.1, {}, RateSeries([1.0], [1.0], [3.0]))
    assert "series" not in json.loads(capsys.readouterr().out if print_json(row) is None else "")
    raw = CodecRow("thumbnail", bytes=100.0)
    printed = json.loads(capsys.readouterr().out if print_json(raw) is None else "")
    assert "K" not in printed and "fits_budget" not in printed and printed["face_found"] is None


def test_a_result_prints_as_strict_json_with_nested_records(capsys):
    result = LiveBenchResult(
        *(1, "sample:carphone", 4.0, 1.0, -10.0, 0.5, float("nan")),
        *(4, 4, 0, 0, 0, 0.3, 5.0, False),
        generation=[GenerationEnd("full", None, 0)],
    )
    printed = json.loads(capsys.readouterr().out if print_json(result) is None else "")
    assert printed["g2g_p95_s"] is None  # NaN is not JSON
    assert printed["generation"] == [{"setting": "full", "s_per_generated_s": None, "changes": 0}]
    assert list(printed) == KEYS[LiveBenchResult].split()
