"""What a need is about: its category, PPKS type, severity and an Indonesian description."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from hub.synthetic.draw import Weighted, chance
from hub.synthetic.people import Family, Person

_P = "PPKS_"


def _ppks(*pairs: tuple[str | None, float]) -> Weighted[str | None]:
    """A weighted PPKS choice; None means the need carries no PPKS type."""
    return Weighted([(None if code is None else _P + code, weight) for code, weight in pairs])


_ADULT_CATEGORY = Weighted(
    [("FOOD", 22.0), ("HOUSING", 15.0), ("EMPOWERMENT", 20.0), ("HEALTH", 18.0),
     ("CIVIL_DOCUMENTS", 10.0), ("PROTECTION", 9.0), ("REHABILITATION", 6.0)]
)  # fmt: skip
_CHILD_CATEGORY = Weighted(
    [("EDUCATION", 55.0), ("HEALTH", 12.0), ("FOOD", 10.0), ("PROTECTION", 10.0),
     ("CIVIL_DOCUMENTS", 8.0), ("REHABILITATION", 5.0)]
)  # fmt: skip
_TODDLER_CATEGORY = Weighted([("HEALTH", 50.0), ("FOOD", 40.0), ("CIVIL_DOCUMENTS", 10.0)])
_ELDER_CATEGORY = Weighted(
    [("HEALTH", 40.0), ("FOOD", 35.0), ("REHABILITATION", 15.0), ("HOUSING", 10.0)]
)  # fmt: skip
_DISABLED_CATEGORY = Weighted([("REHABILITATION", 60.0), ("HEALTH", 30.0), ("EMPOWERMENT", 10.0)])

_ADULT_PPKS: dict[str, Weighted[str | None]] = {
    "FOOD": _ppks(("FAKIR_MISKIN", 70.0), ("PEREMPUAN_RAWAN_SOSEK", 15.0), (None, 15.0)),
    "HOUSING": _ppks(("FAKIR_MISKIN", 60.0), ("KORBAN_BENCANA_ALAM", 15.0),
                     ("KORBAN_BENCANA_SOSIAL", 5.0), (None, 20.0)),
    "EMPOWERMENT": _ppks(("FAKIR_MISKIN", 45.0), ("PEREMPUAN_RAWAN_SOSEK", 20.0),
                         ("BEKAS_WARGA_BINAAN", 8.0), ("PEKERJA_MIGRAN_BERMASALAH", 7.0),
                         (None, 20.0)),
    "HEALTH": _ppks((None, 45.0), ("FAKIR_MISKIN", 42.0), ("ODHA", 5.0), ("KORBAN_NAPZA", 3.0),
                    ("GELANDANGAN", 2.0), ("KOMUNITAS_ADAT_TERPENCIL", 1.0)),
    "CIVIL_DOCUMENTS": _ppks((None, 60.0), ("FAKIR_MISKIN", 23.0), ("GELANDANGAN", 10.0),
                             ("KELOMPOK_MINORITAS", 5.0), ("KOMUNITAS_ADAT_TERPENCIL", 2.0)),
    "PROTECTION": _ppks(("KORBAN_KEKERASAN", 50.0), ("KELUARGA_BERMASALAH_PSIKOLOGIS", 25.0),
                        ("PEREMPUAN_RAWAN_SOSEK", 15.0), ("KORBAN_TRAFFICKING", 10.0)),
    "REHABILITATION": _ppks(("KORBAN_NAPZA", 30.0), ("PEMULUNG", 20.0), ("PENGEMIS", 15.0),
                            ("GELANDANGAN", 15.0), ("BEKAS_WARGA_BINAAN", 15.0),
                            ("TUNA_SUSILA", 5.0)),
}  # fmt: skip
_CHILD_PPKS: dict[str, Weighted[str | None]] = {
    "EDUCATION": _ppks(("ANAK_TERLANTAR", 30.0), ("FAKIR_MISKIN", 30.0), (None, 40.0)),
    "HEALTH": _ppks(("FAKIR_MISKIN", 40.0), ("ANAK_TERLANTAR", 20.0), (None, 40.0)),
    "FOOD": _ppks(("ANAK_TERLANTAR", 50.0), ("FAKIR_MISKIN", 40.0), (None, 10.0)),
    "PROTECTION": _ppks(("ANAK_KORBAN_KEKERASAN", 40.0), ("ANAK_PERLINDUNGAN_KHUSUS", 30.0),
                        ("ANAK_BERHADAPAN_HUKUM", 15.0), ("ANAK_JALANAN", 15.0)),
    "CIVIL_DOCUMENTS": _ppks((None, 60.0), ("ANAK_TERLANTAR", 25.0), ("ANAK_JALANAN", 15.0)),
    "REHABILITATION": _ppks(("ANAK_JALANAN", 50.0), ("ANAK_BERHADAPAN_HUKUM", 50.0)),
}  # fmt: skip
_TODDLER_PPKS = _ppks(("ANAK_BALITA_TERLANTAR", 35.0), ("FAKIR_MISKIN", 25.0), (None, 40.0))
_ELDER_PPKS = _ppks(("LANSIA_TERLANTAR", 60.0), ("FAKIR_MISKIN", 25.0), (None, 15.0))
_SEVERITY = Weighted([(1, 25.0), (2, 40.0), (3, 25.0), (4, 10.0)])

#: Description templates by category, with age-group variants (`_BALITA`, `_ANAK`, `_LANSIA`).
TEMPLATES: dict[str, tuple[str, ...]] = {
    "EDUCATION": (
        "Anak kelas {grade} {school} membutuhkan seragam, sepatu dan perlengkapan sekolah.",
        "Menunggak biaya sekolah sebesar Rp{amount} selama {months} bulan; terancam tidak dapat "
        "mengikuti ujian.",
        "Membutuhkan biaya pendaftaran masuk {next_school} pada tahun ajaran baru.",
        "Tidak memiliki ongkos ke sekolah sehingga sering tidak masuk sekolah.",
    ),
    "FOOD": (
        "Keluarga {size} orang kekurangan bahan pangan; penghasilan harian tidak mencukupi.",
        "Membutuhkan bantuan sembako rutin setelah kepala keluarga kehilangan pekerjaan.",
        "Sering melewatkan makan karena tidak memiliki penghasilan tetap.",
    ),
    "FOOD_BALITA": (
        "Balita mengalami gizi kurang; membutuhkan susu dan makanan tambahan.",
        "Berat badan balita di bawah garis merah KMS; membutuhkan makanan tambahan bergizi.",
    ),
    "FOOD_LANSIA": (
        "Lansia tanpa penghasilan; membutuhkan bantuan permakanan harian.",
        "Lansia tinggal bersama keluarga miskin; membutuhkan bantuan sembako rutin.",
    ),
    "HEALTH": (
        "Membutuhkan ongkos dan pendampingan untuk kontrol rutin {condition} di {hospital}.",
        "Belum terdaftar sebagai peserta JKN-PBI; membutuhkan pengobatan {condition}.",
        "Membutuhkan obat dan pemeriksaan lanjutan {condition}; biaya sekitar Rp{amount} per "
        "bulan.",
    ),
    "HEALTH_BALITA": (
        "Balita belum mendapat imunisasi lengkap dan belum terdaftar JKN.",
        "Balita terindikasi stunting; membutuhkan pemantauan tumbuh kembang di Posyandu "
        "{kelurahan}.",
    ),
    "HEALTH_LANSIA": (
        "Lansia dengan {condition} membutuhkan pendampingan kontrol rutin ke {hospital}.",
        "Lansia membutuhkan kacamata dan alat bantu dengar.",
    ),
    "REHABILITATION": (
        "Membutuhkan {aid} dan terapi rutin.",
        "Membutuhkan pendampingan rehabilitasi sosial berbasis keluarga.",
        "Membutuhkan rujukan ke balai rehabilitasi sosial dan pendampingan pekerja sosial.",
    ),
    "REHABILITATION_LANSIA": (
        "Lansia terlantar membutuhkan pendampingan dan perawatan harian.",
        "Lansia membutuhkan {aid} untuk beraktivitas sehari-hari.",
    ),
    "PROTECTION": (
        "Membutuhkan pendampingan psikososial dan perlindungan setelah kekerasan dalam rumah "
        "tangga.",
        "Membutuhkan rumah aman sementara dan pendampingan hukum.",
        "Keluarga mengalami konflik berkepanjangan; membutuhkan konseling keluarga.",
    ),
    "PROTECTION_ANAK": (
        "Anak membutuhkan pendampingan psikolog dan perlindungan khusus.",
        "Anak sering berada di jalan; membutuhkan pendampingan dan pengasuhan alternatif.",
    ),
    "EMPOWERMENT": (
        "Membutuhkan modal usaha {business} sebesar Rp{amount}.",
        "Membutuhkan pelatihan keterampilan {skill} agar dapat bekerja.",
        "Kehilangan pekerjaan {months} bulan lalu; membutuhkan bantuan mencari kerja.",
    ),
    "HOUSING": (
        "Rumah tidak layak huni: atap bocor dan dinding {material} lapuk.",
        "Membutuhkan perbaikan jamban dan saluran air bersih.",
        "Rumah rusak akibat {disaster}; membutuhkan bahan bangunan.",
    ),
    "CIVIL_DOCUMENTS": (
        "KTP-el hilang dan belum diganti; tidak dapat mengakses bantuan sosial.",
        "Membutuhkan pembaruan Kartu Keluarga setelah {event}.",
        "Belum memiliki akta kelahiran.",
    ),
    "CIVIL_DOCUMENTS_ANAK": (
        "Anak belum memiliki akta kelahiran dan Kartu Identitas Anak.",
        "Akta kelahiran anak rusak; membutuhkan penerbitan ulang.",
    ),
}
_HOSPITALS = (
    "RSUD Kota Bandung", "RSUP Dr. Hasan Sadikin", "RS Al-Islam", "RSKIA Kota Bandung",
    "RS Immanuel", "RSUD Ujungberung",
)  # fmt: skip
_CONDITIONS = (
    "hipertensi", "diabetes", "TBC", "asma", "gagal ginjal", "stroke", "katarak",
    "penyakit jantung",
)  # fmt: skip
_AIDS = ("kursi roda", "tongkat", "alat bantu dengar", "kaki palsu", "kruk", "tongkat tunanetra")
_BUSINESSES = (
    "warung kelontong", "gorengan", "jahit", "cilok", "bengkel motor", "laundry", "seblak",
    "kue basah",
)  # fmt: skip
_SKILLS = ("menjahit", "tata boga", "servis ponsel", "barista", "mengemudi", "tata rias")
_MATERIALS = ("bilik bambu", "kayu", "tembok retak")
_DISASTERS = ("kebakaran", "banjir", "angin puting beliung", "longsor")
_EVENTS = ("perceraian", "kematian kepala keluarga", "kelahiran anak", "pindah domisili")


@dataclass(frozen=True, slots=True)
class NeedContent:
    """The substance of one need."""

    category: str
    ppks: str | None
    description: str
    severity: int


def _rupiah(value: int) -> str:
    """Thousands separated by dots, as Indonesians write amounts: `1.250.000`."""
    return f"{value:,}".replace(",", ".")


def _school(age: int) -> tuple[str, int, str]:
    """(current school, grade, next school) for a school-age child."""
    if age <= 12:
        return "SD", max(1, min(6, age - 6)), "SMP"
    if age <= 15:
        return "SMP", age - 12, "SMA/SMK"
    return "SMA/SMK", max(10, min(12, age - 6)), "perguruan tinggi"


def _category(rng: Random, person: Person) -> tuple[str, str | None]:
    """A category and PPKS type plausible for this person."""
    age = person.age
    child = age < 18
    if person.disabled and chance(rng, 0.7):
        category = _DISABLED_CATEGORY.pick(rng)
        if category == "EMPOWERMENT" and age < 19:
            category = "EDUCATION" if age >= 5 else "HEALTH"
        return category, _P + ("ANAK_DISABILITAS" if child else "PENYANDANG_DISABILITAS")
    if age >= 60:
        category = _ELDER_CATEGORY.pick(rng)
        return category, _ELDER_PPKS.pick(rng)
    if age < 5:
        return _TODDLER_CATEGORY.pick(rng), _TODDLER_PPKS.pick(rng)
    if child:
        category = _CHILD_CATEGORY.pick(rng)
        return category, _CHILD_PPKS[category].pick(rng)
    category = "HEALTH" if person.chronic and chance(rng, 0.6) else _ADULT_CATEGORY.pick(rng)
    ppks = _ADULT_PPKS[category].pick(rng)
    if ppks == _P + "PEREMPUAN_RAWAN_SOSEK" and not person.female:
        ppks = _P + "FAKIR_MISKIN"
    return category, ppks


def _template_key(category: str, age: int) -> str:
    """The template group for a category and an age."""
    if age < 5 and category in ("FOOD", "HEALTH"):
        return category + "_BALITA"
    if age >= 60 and category in ("FOOD", "HEALTH", "REHABILITATION"):
        return category + "_LANSIA"
    if age < 18 and category in ("PROTECTION", "CIVIL_DOCUMENTS"):
        return category + "_ANAK"
    return category


def describe(rng: Random, person: Person, family: Family) -> NeedContent:
    """A need of `person` in `family`: category, PPKS type, severity and description."""
    category, ppks = _category(rng, person)
    school, grade, next_school = _school(person.age)
    template = rng.choice(TEMPLATES[_template_key(category, person.age)])
    description = template.format_map(
        {
            "grade": grade,
            "school": school,
            "next_school": next_school,
            "amount": _rupiah(rng.randint(3, 60) * 50_000),
            "months": rng.randint(2, 8),
            "size": len(family.members),
            "condition": rng.choice(_CONDITIONS),
            "hospital": rng.choice(_HOSPITALS),
            "kelurahan": family.kelurahan.name,
            "aid": rng.choice(_AIDS),
            "business": rng.choice(_BUSINESSES),
            "skill": rng.choice(_SKILLS),
            "material": rng.choice(_MATERIALS),
            "disaster": rng.choice(_DISASTERS),
            "event": rng.choice(_EVENTS),
        }
    )
    severity = _SEVERITY.pick(rng)
    if (person.disabled or person.age >= 75 or family.decile == 1) and chance(rng, 0.5):
        severity = min(4, severity + 1)
    return NeedContent(category, ppks, description, severity)
