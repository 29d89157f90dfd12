"""CLI subcommands ``traffic`` (traffic per street segment) and ``noise`` (Lden/Lnight map, homes, per wijk)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from gezondestad.app.cli.air import _read_counts, area_and_traffic
from gezondestad.layers.export import write_table
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.spatial.noise import NoiseParams, noise_exposure
from gezondestad.spatial.raster import write_bands
from gezondestad.spatial.traffic import traffic_per_segment
from tqdm import tqdm

NOISE_CSV_COLUMNS = [
    "wijk_code", "wijk_naam", "residents", "homes", "lden_mean_db", "lnight_mean_db", "above_who_lden_share",
    "above_who_lnight_share", "highly_annoyed", "highly_sleep_disturbed", "destinations", "destinations_above_who_lden",
]


def _write_atomic(files: dict[Path, Callable[[Path], None]], what: str) -> None:
    """Write every file to a temporary name first, then move them all into place (nothing half-written)."""

    tmp = {p: p.with_name(f".{p.name}.tmp{os.getpid()}{p.suffix}") for p in files}
    try:
        for p, write in files.items():
            p.parent.mkdir(parents=True, exist_ok=True)
            write(tmp[p])
        for p, t in tmp.items():
            if t.exists():
                os.replace(t, p)
    except (OSError, ValueError) as exc:
        raise GezondeStadError(f"Wegschrijven van de {what} mislukt ({exc}); er is niets geschreven.") from exc
    finally:
        for t in tmp.values():
            if t.exists():
                t.unlink()


def _add_traffic(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("traffic", help="verkeer per straatsegment (etmaalintensiteit, aandeel vrachtverkeer, snelheid, dag/avond/nacht) als GeoPackage + CSV")
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied")
    p.add_argument("--out", type=Path, default=Path("traffic.gpkg"), help="GeoPackage om te schrijven (standaard traffic.gpkg); een CSV komt ernaast")
    p.add_argument("--counts", type=Path, help="verkeerstellingen (CSV met edge_id en aadt, of een GeoPackage met tellijnen)")


def _run_traffic(args: argparse.Namespace) -> int:

    area = load_study_area(args.area)
    counts = _read_counts(args.counts) if args.counts else None
    t = traffic_per_segment(area, counts=counts)
    out: Path = args.out
    csv = out.with_suffix(".csv")
    _write_atomic({out: lambda p: t.to_file(p, layer="traffic", driver="GPKG"),
                   csv: lambda p: write_table(t.drop(columns="geometry"), p)}, "verkeersgegevens")
    summary = t.groupby("highway", dropna=False).agg(segments=("aadt", "size"), aadt_mean=("aadt", "mean"), speed_kmh=("speed_kmh", "mean"))
    print(summary.round(0).to_string())
    for n in t.attrs.get("notes", []):
        print(f"- {n}")
    print(f"Geschreven: {out}, {csv}")
    return 0


def _add_noise(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("noise", help="geluid van weg en spoor (CNOSSOS-EU): Lden/Lnight als GeoTIFF + GeoPackage van woningen + CSV per wijk")
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied")
    p.add_argument("--out", type=Path, default=Path("noise.tif"),
                   help="GeoTIFF om te schrijven (standaard noise.tif); OUT_homes.gpkg (lagen homes, destinations) en OUT.csv komen ernaast")
    p.add_argument("--counts", type=Path, help="verkeerstellingen (CSV met edge_id, of een GeoPackage met tellijnen) in plaats van de standaardwaarden per wegklasse")
    p.add_argument("--no-grid", action="store_true", help="geen rasterkaart (enkel woningen en bestemmingen)")
    p.add_argument("--official-lden", type=Path, help="officiële Lden-kaart (GeoTIFF, elk CRS, bv. de Vlaamse strategische geluidskaart) als voor-toestand aan elke woning")
    p.add_argument("--official-lnight", type=Path, help="officiële Lnight-kaart (GeoTIFF, elk CRS) als voor-toestand aan elke woning")
    p.add_argument("--max-distance-m", type=float, help="zoekstraal rond elk ontvangerpunt (standaard data/norms/noise.toml)")


def _run_noise(args: argparse.Namespace) -> int:
    out: Path = args.out
    homes_path = out.with_name(out.stem + "_homes.gpkg")
    csv_path = out.with_suffix(".csv")
    with tqdm(total=4, unit="stap") as bar:
        area, traffic = area_and_traffic(args, bar)
        bar.set_description("geluidsmodel")
        over = {} if args.max_distance_m is None else {"max_distance_m": args.max_distance_m}
        res = noise_exposure(area, traffic, NoiseParams.from_norms(**over), with_grid=not args.no_grid,
                             official_lden=args.official_lden, official_lnight=args.official_lnight)
        bar.update(1)
        bar.set_description("schrijven")
        per = res.per_wijk
        cols = [c for c in NOISE_CSV_COLUMNS if c in per.columns] + [c for c in per.columns if c not in NOISE_CSV_COLUMNS]

        def homes(p: Path) -> None:
            res.homes.to_file(p, layer="homes", driver="GPKG")
            if len(res.destinations):
                res.destinations.to_file(p, layer="destinations", driver="GPKG")

        files = {homes_path: homes, csv_path: lambda p: write_table(per[cols], p)}
        if res.grid is not None:
            files[out] = lambda p: write_bands(p, res.bands(), res.grid)
        _write_atomic(files, "geluidsresultaten")
        bar.update(1)
    if len(per):
        print(per[["wijk_code", "wijk_naam", "residents", "lden_mean_db", "lnight_mean_db", "above_who_lden_share"]].round(2).to_string(index=False))
    h = res.homes
    print("Inwoners per Lden-klasse: " + "; ".join(
        f"{k} dB: {fmt_number(v)}" for k, v in h.groupby("lden_class")["residents"].sum().items() if v > 0))
    if len(res.destinations):
        d = res.destinations
        print(f"Gevoelige bestemmingen boven de WHO-waarde (Lden): {int(d['above_who_lden'].sum())} van {len(d)}")
    for n in res.notes:
        print(f"- {n}")
    print("Geschreven: " + ", ".join(str(p) for p in files if p.exists()))
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "traffic": (_add_traffic, _run_traffic),
    "noise": (_add_noise, _run_noise),
}
