"""Peak memory of checking the worst upload files (issue 15): prints the figures, target ≤ 1 Go.

    python benchmarks/memory_reading.py [--keep DIR]

Builds, in a temporary folder, a referential-only database and hostile workbooks:
- `xfd_4_9mo.xlsx` and `xfd_51ko.xlsx`: a programmation sheet whose every row also has a cell in the last
  column (XFD, n° 16 384) — the files that made `check` use 22,8 Go before bounded reading;
- `xfd_vide_4_9mo.xlsx`: the same, but the far cell is empty (`<c r="XFD…"/>`), so nothing is refused early and
  every row is read;
- `lignes_vides.xlsx`: a sheet declaring a million empty rows;
- `zip_bomb.xlsx`: 300 Mo of shared strings compressed into a few hundred ko;
- `large.csv`: 50 Mo of CSV (the size limit), `separateurs.csv`: one line of 10 million separators.
Each file is checked (`importer.check_file`, what the upload page and `python -m cdv_core check` run) in a fresh
subprocess; the peak resident memory (`ru_maxrss`) and the verdict are printed next to a baseline (the same
process, imports done, without the check).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["action_id", "annee", "intitule", "porteur", "pilier", "qpv"]

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '{extra}</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="programmation" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
           '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           'worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>')
SHEET_START = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<dimension ref="A1:XFD1048576"/><sheetData>')
SHEET_END = "</sheetData></worksheet>"


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(n: int, far: str) -> str:
    if n == 1:
        cells = "".join(_inline(f"{chr(65 + i)}1", h) for i, h in enumerate(HEADER))
    else:
        values = [f"A{n:07d}", "2024", f"Action {n}", "Porteur", "emploi", "QN05971M"]
        cells = "".join(_inline(f"{chr(65 + i)}{n}", v) for i, v in enumerate(values))
    return f'<row r="{n}">{cells}{far.format(n=n)}</row>'


def write_xlsx(path: Path, rows_xml, shared_strings: list[bytes] | None = None) -> None:
    """A minimal workbook written part by part (openpyxl would refuse to write a cell in XFD on every row)."""
    extra_ct = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/>') if shared_strings else ""
    extra_rel = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/sharedStrings" Target="sharedStrings.xml"/>') if shared_strings else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES.format(extra=extra_ct))
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WB_RELS.format(extra=extra_rel))
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(SHEET_START.encode())
            for chunk in rows_xml:
                out.write(chunk.encode())
            out.write(SHEET_END.encode())
        if shared_strings:
            with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                for chunk in shared_strings:
                    out.write(chunk)


def xfd_rows(n_rows: int, far: str):
    batch = []
    for n in range(1, n_rows + 1):
        batch.append(_row(n, far))
        if len(batch) == 5000:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def xfd_to_size(path: Path, target: int, far: str) -> None:
    """The XFD workbook with as many rows as make it about `target` bytes."""
    probe = path.with_suffix(".probe.xlsx")
    write_xlsx(probe, xfd_rows(20_000, far))
    per_row = probe.stat().st_size / 20_000
    probe.unlink()
    write_xlsx(path, xfd_rows(max(2, int(target / per_row)), far))


def build_files(folder: Path) -> dict[str, Path]:
    files = {}
    filled = '<c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c>'
    files["xfd_4_9mo.xlsx"] = folder / "xfd_4_9mo.xlsx"
    xfd_to_size(files["xfd_4_9mo.xlsx"], 4_900_000, filled)
    files["xfd_51ko.xlsx"] = folder / "xfd_51ko.xlsx"
    xfd_to_size(files["xfd_51ko.xlsx"], 51_000, filled)
    files["xfd_vide_4_9mo.xlsx"] = folder / "xfd_vide_4_9mo.xlsx"
    xfd_to_size(files["xfd_vide_4_9mo.xlsx"], 4_900_000, '<c r="XFD{n}"/>')
    files["lignes_vides.xlsx"] = folder / "lignes_vides.xlsx"
    write_xlsx(files["lignes_vides.xlsx"], [_row(1, "")] + [
        "".join(f'<row r="{n}"/>' for n in range(start, min(start + 10_000, 1_048_577)))
        for start in range(2, 1_048_577, 10_000)])
    files["zip_bomb.xlsx"] = folder / "zip_bomb.xlsx"
    big = [b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
           *([b"a" * 10_000_000] * 30), b"</t></si></sst>"]
    write_xlsx(files["zip_bomb.xlsx"], xfd_rows(10, ""), shared_strings=big)
    line = ";".join(["A0000001", "2024", "Action", "Porteur", "emploi", "QN05971M"]) + "\n"
    files["large.csv"] = folder / "large.csv"
    files["large.csv"].write_bytes((";".join(HEADER) + "\n" + line * (49_000_000 // len(line))).encode())
    files["separateurs.csv"] = folder / "separateurs.csv"
    files["separateurs.csv"].write_bytes((";".join(HEADER) + "\n" + ";" * 10_000_000 + "\n").encode())
    return files


CHILD = r"""
import json, resource, sys, time
from cdv_core import importer, schema
con = schema.connect(sys.argv[1], read_only=True)
data = open(sys.argv[2], "rb").read() if sys.argv[2] != "-" else None
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
verdict = "référence (sans vérification)"
if data is not None:
    report = importer.check_file(con, data, sys.argv[2].rsplit("/", 1)[-1])
    first = report.errors[0].message if report.errors else "valide"
    verdict = f"{len(report.errors)} erreur(s) : {first}" if report.errors else "valide"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kb": peak, "base_kb": base, "s": time.perf_counter() - t0, "verdict": verdict}))
"""


def measure(db: Path, path: Path | None) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(path) if path else "-"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"peak_kb": 0, "base_kb": 0, "s": 0.0, "verdict": f"ÉCHEC : {out.stderr.strip()[-300:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="dossier où garder les fichiers générés")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from cdv_core import demo

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "ref.duckdb"
        if not db.exists():
            demo.new_database(db, demo=False)
        t0 = time.perf_counter()
        files = build_files(folder)
        print(f"Fichiers générés en {time.perf_counter() - t0:.0f} s dans {folder}")
        base = measure(db, None)
        print(f"{'fichier':<22} {'taille':>10} {'pic mémoire':>12} {'durée':>8}  verdict")
        print(f"{'(référence)':<22} {'':>10} {base['peak_kb'] / 1024:>9.0f} Mo {'':>8}  {base['verdict']}")
        worst = 0
        for name, path in files.items():
            r = measure(db, path)
            worst = max(worst, r["peak_kb"])
            size = path.stat().st_size
            shown = f"{size / 1e6:.1f} Mo" if size >= 1e6 else f"{size / 1e3:.0f} ko"
            print(f"{name:<22} {shown:>10} {r['peak_kb'] / 1024:>9.0f} Mo {r['s']:>7.1f}s  {r['verdict'][:150]}")
        print(f"Pic le plus haut : {worst / 1024:.0f} Mo (objectif : ≤ 1 024 Mo) — "
              + ("tenu." if worst <= 1024 * 1024 else "DÉPASSÉ."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
