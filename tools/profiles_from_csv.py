#!/usr/bin/env python3
"""Generates Sources/AccelBenchProfiles/Profiles/<id>.json (one chip profile per file) from the
research table chip-profiles.csv (default: ../shared/data/chip-profiles.csv).

    python3 tools/profiles_from_csv.py [CSV] [OUTDIR]

Rows with no number at all (no peak, no memory size, no bandwidth) are left out: a profile that knows
nothing cannot judge or project anything. Blank cells stay absent (unknown), never 0. Peaks are copied
as the CSV states them: dense figures (the table halves sparse-only figures and says so); the source
text is copied verbatim. The package reads only the generated JSON, never the CSV.
"""
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "data", "chip-profiles.csv")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "Sources", "AccelBenchProfiles", "Profiles")

GENERATED = "Generated from chip-profiles.csv by tools/profiles_from_csv.py."

# Prefix of each vendor's ids (Huawei and Moore Threads model names already say whose they are).
PREFIX = {
    "Huawei": "", "Cambricon": "cambricon-", "Hygon": "hygon-", "Kunlunxin": "kunlunxin-", "MetaX": "metax-",
    "Moore Threads": "", "Iluvatar CoreX": "iluvatar-", "Biren": "biren-", "Enflame": "enflame-",
    "NVIDIA": "nvidia-", "AMD": "amd-", "Intel": "intel-",
}

# The short software-stack name `profiles list --stack` filters on; the CSV's text is kept as stackDetail.
def short_stack(text):
    for key, name in [("CANN", "CANN"), ("BANG", "BANG"), ("DTK", "DTK"), ("XPU", "XPU"), ("MACA", "MACA"),
                      ("MUSA", "MUSA"), ("CoreX", "CoreX"), ("SUPA", "SUPA"), ("TopsRider", "TopsRider"),
                      ("CUDA", "CUDA"), ("ROCm", "ROCm"), ("Gaudi", "SynapseAI"), ("x86-64", "CPU")]:
        if key in text:
            return name
    raise SystemExit(f"no short stack name for '{text}': add it to short_stack()")

def slug(vendor, model):
    model = re.sub(r"\s+-\s+CPU example$", "", model)
    model = re.sub(r"\([^)]*\)", "", model)
    model = model.replace("/", " ")
    text = re.sub(r"[^a-z0-9]+", "-", (PREFIX[vendor] + model).lower()).strip("-")
    return text

def number(text):
    text = text.strip()
    if not text:
        return None
    value = float(text)
    return int(value) if value == int(value) and "." not in text else value

def main():
    rows = list(csv.DictReader(open(CSV, newline="", encoding="utf-8")))
    os.makedirs(OUT, exist_ok=True)
    # Remove the profiles an earlier run generated (and only those: user files in OUT stay).
    for name in os.listdir(OUT):
        path = os.path.join(OUT, name)
        if name.endswith(".json") and name != "chip-profile.schema.json":
            with open(path, encoding="utf-8") as f:
                if GENERATED in f.read():
                    os.remove(path)
    written, skipped, ids = 0, [], set()
    for row in rows:
        peaks = {}
        for dtype in ["fp64", "fp32", "tf32", "fp16", "bf16"]:
            v = number(row[f"{dtype}_tflops"])
            if v is not None:
                peaks[dtype] = v
        for dtype in ["int8", "int4"]:
            v = number(row[f"{dtype}_tops"])
            if v is not None:
                peaks[dtype] = v
        memory = {}
        if row["mem_type"].strip():
            memory["type"] = row["mem_type"].strip()
        if number(row["mem_gb"]) is not None:
            memory["capacityGB"] = number(row["mem_gb"])
        if number(row["mem_bw_gbs"]) is not None:
            memory["bandwidthGBps"] = number(row["mem_bw_gbs"])
        if not peaks and "capacityGB" not in memory and "bandwidthGBps" not in memory:
            skipped.append(f"{row['vendor']} {row['model']}")
            continue
        pid = slug(row["vendor"], row["model"])
        if pid in ids:
            raise SystemExit(f"duplicate id {pid}")
        ids.add(pid)
        profile = {
            "id": pid,
            "vendor": row["vendor"].strip(),
            "model": row["model"].strip(),
            "stack": short_stack(row["stack"]),
            "stackDetail": row["stack"].strip(),
        }
        if number(row["year"]) is not None:
            profile["year"] = number(row["year"])
        profile["peakTFLOPS"] = peaks
        if memory:
            profile["memory"] = memory
        if number(row["tdp_w"]) is not None:
            profile["tdpWatts"] = number(row["tdp_w"])
        link = {}
        if row["interconnect"].strip():
            link["name"] = row["interconnect"].strip()
        if number(row["interconnect_gbs"]) is not None:
            link["bandwidthGBps"] = number(row["interconnect_gbs"])
        if link:
            profile["interconnect"] = link
        profile["confidence"] = row["confidence"].strip()
        profile["source"] = row["source"].strip()
        profile["notes"] = (GENERATED + " Peaks are dense as the table states them (Chinese vendors rarely say "
                            "dense or sparse: read them as vendor peaks).")
        with open(os.path.join(OUT, pid + ".json"), "w", encoding="utf-8") as f:
            json.dump(profile, f, indent=2, ensure_ascii=False)
            f.write("\n")
        written += 1
    print(f"{written} profiles written to {OUT}; left out (no numbers): {', '.join(skipped) or 'none'}")

if __name__ == "__main__":
    main()
