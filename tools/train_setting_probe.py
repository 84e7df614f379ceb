"""Train the indoor / outdoor probe shipped as ``mirage_stream/sender/models/setting_probe.npz``.

Training images: the 1,000 ImageNet sample photographs of https://github.com/EliSchwartz/
imagenet-sample-images (one random image per ImageNet class, commit bc69043), of which the classes
below were kept after looking at every one of their images by hand: a class is listed where its
image shows a room, a shop or a hall (indoor) or a street, a field, a shore or a building from
outside (outdoor); classes whose image is a product shot, a close-up, a drawing or the other
setting than the class suggests (a bookshop's shop front, a horizontal bar in a park) are left
out. None of the images is in an evaluation set. Only the fitted weights ship, not the images.

Run (scikit-learn is in the ``train`` extra)::

    git clone https://github.com/EliSchwartz/imagenet-sample-images /tmp/inet
    python tools/train_setting_probe.py --images /tmp/inet

It prints the 5-fold cross-validated accuracy on the images and the file's SHA-256, to record
as ``setting.PROBE_SHA256``. The regularisation (C = 0.01) was chosen by that cross-validation
alone; the thresholds in ``setting.py`` were chosen on the evaluation sets' tune halves.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import cv2
import numpy as np

from mirage_stream.sender.setting import PROBE_FILE, SceneProbe
from mirage_stream.sender.ssd_pass import SsdPass

INDOOR = """altar bakery barber_chair bathtub bookcase butcher_shop china_cabinet chiffonier
confectionery cradle crib desk desktop_computer dining_table entertainment_center file fire_screen
folding_chair four-poster home_theater library medicine_chest microwave organ printer quilt
refrigerator restaurant rocking_chair shoji shower_curtain sliding_door stage stove studio_couch
television theater_curtain toilet_seat toyshop upright wardrobe washbasin window_shade radiator
photocopier vacuum wall_clock bannister planetarium prison balance_beam parallel_bars laptop
shopping_basket screen projector yurt""".split()  # noqa: SIM905 (a paragraph reads better)
OUTDOOR = """alp cliff geyser lakeside promontory sandbar seashore valley volcano barn boathouse
bell_cote breakwater dam dock mosque obelisk palace pier stupa suspension_bridge steel_arch_bridge
triumphal_arch viaduct water_tower totem_pole park_bench picket_fence worm_fence stone_wall
chainlink_fence street_sign traffic_light parking_meter cab minivan pickup police_van
trailer_truck tractor streetcar school_bus trolleybus garbage_truck moving_van jeep limousine
ambulance fire_engine convertible tow_truck motor_scooter moped mountain_bike tricycle castle
church monastery cliff_dwelling megalith thatch tile_roof mobile_home recreational_vehicle
lawn_mower harvester thresher plow oxcart horse_cart jinrikisha golfcart go-kart snowmobile
snowplow dogsled swing maypole flagpole manhole_cover solar_dish radio_telescope beacon lifeboat
gondola canoe speedboat schooner yawl catamaran trimaran container_ship liner fireboat
steam_locomotive electric_locomotive bullet_train freight_car half_track tank cannon wreck
rapeseed hay ballplayer apiary birdhouse pole rain_barrel sundial bicycle-built-for-two unicycle
pay-phone carousel zebra gazelle impala bison ox water_buffalo African_elephant Arabian_camel
llama ibex bighorn sorrel""".split()  # noqa: SIM905
REGULARISATION = 0.01


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="imagenet-sample-images")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parents[1] / "mirage_stream/sender/models" / PROBE_FILE,
    )
    args = parser.parse_args()
    files = {p.stem.split("_", 1)[1]: p for p in args.images.glob("n*_*.JPEG")}
    missing = [name for name in INDOOR + OUTDOOR if name not in files]
    if missing:
        raise SystemExit(f"not in {args.images}: {', '.join(missing)}")
    ssd = SsdPass()
    names = sorted(INDOOR + OUTDOOR)
    rgb = [cv2.cvtColor(cv2.imread(str(files[n])), cv2.COLOR_BGR2RGB) for n in names]
    embeddings = np.stack([ssd.run(image).embedding for image in rgb])
    outdoor = np.array([n in OUTDOOR for n in names], dtype=int)
    mean = embeddings.mean(axis=0)
    scale = embeddings.std(axis=0) + 1e-3
    standard = (embeddings - mean) / scale
    model = LogisticRegression(C=REGULARISATION, max_iter=5000, class_weight="balanced")
    accuracy = cross_val_score(model, standard, outdoor, cv=5).mean()
    model.fit(standard, outdoor)
    probe = SceneProbe(
        mean.astype(np.float32),
        scale.astype(np.float32),
        model.coef_[0].astype(np.float32),
        float(model.intercept_[0]),
    )
    data = probe.to_bytes()
    args.out.write_bytes(data)
    print(f"{len(INDOOR)} indoor and {len(OUTDOOR)} outdoor images")
    print(f"5-fold cross-validated accuracy: {accuracy:.3f}")
    print(f"wrote {args.out}, SHA-256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
