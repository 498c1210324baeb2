"""The citizen's report under UU PDP (Law 27/2022) art. 32: their data and its processing trail.

Article 32 obliges the controller to give a data subject access to their personal data
*together with the record of its processing*. `citizen_report` renders both as Markdown in
Indonesian, from the registry (identity, family card, needs, programme enrolments,
assistance received) and from the audit trail (every recorded access to their personal
fields: when, by which organisation, for which stated purpose, which fields). Other family
members' data are not shown: they are someone else's personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.audit.queries import AccessEntry, IntegrityStatus, access_report
from hub.contributions.models import Contribution
from hub.localtime import WIB
from hub.needs.models import Need, NeedCategory
from hub.organizations.models import Organization
from hub.programs.models import Enrolment, Program
from hub.regions.models import Region
from hub.registry.models import Citizen, Household

_MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
SEXES = {"F": "Perempuan", "M": "Laki-laki"}
RELATIONSHIPS = {
    "HEAD": "Kepala keluarga",
    "SPOUSE": "Suami/istri",
    "CHILD": "Anak",
    "PARENT": "Orang tua",
    "GRANDCHILD": "Cucu",
    "IN_LAW": "Menantu/mertua",
    "OTHER": "Lainnya",
}
NEED_STATUSES = {
    "REPORTED": "Dilaporkan",
    "VERIFIED": "Terverifikasi",
    "OPEN": "Terbuka",
    "PLEDGED": "Sedang ditangani",
    "FULFILLED": "Terpenuhi",
    "REFERRED": "Dirujuk",
    "CLOSED": "Ditutup",
}
SEVERITIES = {1: "Rendah", 2: "Sedang", 3: "Tinggi", 4: "Kritis"}
CONTRIBUTION_KINDS = {"CASH": "Uang", "IN_KIND": "Barang", "SERVICE": "Layanan"}
PURPOSES = {
    "SERVICE_DELIVERY": "Pemberian layanan",
    "ELIGIBILITY_CHECK": "Pemeriksaan kelayakan",
    "VERIFICATION": "Verifikasi data",
    "AUDIT": "Audit",
    "CITIZEN_REQUEST": "Permintaan Anda sendiri",
}
OPERATIONS = {"query": "Membaca", "mutation": "Mengubah", "subscription": "Berlangganan"}
DECISIONS = {"ALLOWED": "Diizinkan", "DENIED": "Ditolak"}
FIELDS = {
    "nik": "NIK",
    "fullName": "nama lengkap",
    "birthDate": "tanggal lahir",
    "age": "umur",
    "phone": "nomor telepon",
    "kkNumber": "nomor KK",
    "address": "alamat",
    "rt": "RT",
    "rw": "RW",
}
#: The fields a citizen report itself reads, as recorded in its own audit event.
REPORT_FIELDS = ("address", "birthDate", "fullName", "kkNumber", "nik", "phone", "rt", "rw")


def tanggal(day: dt.date) -> str:
    """A date written the Indonesian way: `7 Maret 2026`."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def waktu(moment: dt.datetime) -> str:
    """A moment in Western Indonesia Time: `7 Maret 2026 14.05 WIB`."""
    local = moment.astimezone(WIB)
    return f"{tanggal(local.date())} {local:%H.%M} WIB"


def rupiah(amount: int) -> str:
    """Rupiah with dots between thousands: `Rp1.500.000`."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def _cell(value: object) -> str:
    """A value safe inside a Markdown table cell."""
    text = "-" if value is None or value == "" else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _yes(flag: bool) -> str:
    """Ya / Tidak."""
    return "Ya" if flag else "Tidak"


@dataclass(frozen=True, slots=True)
class ReportSubject:
    """The citizen a report is about."""

    citizen: Citizen
    household: Household | None


async def find_citizen(session: AsyncSession, *, nik: str) -> ReportSubject | None:
    """The citizen with NIK `nik` and their household, or None."""
    citizen = await session.scalar(select(Citizen).where(Citizen.nik == nik))
    if citizen is None:
        return None
    return ReportSubject(citizen, await session.get(Household, citizen.household_id))


async def citizen_report(
    session: AsyncSession,
    *,
    subject: ReportSubject,
    generated_at: dt.datetime,
    integrity: IntegrityStatus | None = None,
    request_seq: int | None = None,
) -> str:
    """The art. 32 report of `subject` as Indonesian Markdown."""
    citizen, household = subject.citizen, subject.household
    lines = [
        "# Laporan Data Pribadi dan Rekam Jejak Pemrosesan",
        "",
        "Disusun oleh Dinas Sosial Kota Bandung melalui Satu Pintu Hub, berdasarkan Pasal 32 "
        "Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi.",
        "",
        f"- Dibuat: {waktu(generated_at)}",
        f"- Untuk: {citizen.full_name} (NIK {citizen.nik})",
    ]
    if request_seq is not None:
        lines.append(
            f"- Pembuatan laporan ini tercatat di log audit dengan nomor urut {request_seq}."
        )
    lines += ["", "## 1. Data identitas", ""]
    lines += _table(
        ("Data", "Isi"),
        [
            ("NIK", citizen.nik),
            ("Nama lengkap", citizen.full_name),
            ("Tanggal lahir", tanggal(citizen.birth_date)),
            ("Jenis kelamin", SEXES.get(citizen.sex, citizen.sex)),
            (
                "Hubungan dalam keluarga",
                RELATIONSHIPS.get(citizen.relationship, citizen.relationship),
            ),
            ("Penyandang disabilitas", _yes(citizen.has_disability)),
            ("Penyakit kronis", _yes(citizen.has_chronic_illness)),
            ("Pendidikan", citizen.education),
            ("Pekerjaan", citizen.occupation),
            ("Nomor telepon", citizen.phone),
        ],
    )
    lines += ["", "## 2. Data keluarga (Kartu Keluarga)", ""]
    lines += await _household(session, household)
    lines += ["", "## 3. Kebutuhan yang tercatat", ""]
    lines += await _needs(session, citizen.id)
    lines += ["", "## 4. Keikutsertaan dalam program", ""]
    lines += await _enrolments(session, citizen.id)
    lines += ["", "## 5. Bantuan yang diterima", ""]
    lines += await _contributions(session, citizen.id)
    lines += ["", "## 6. Rekam jejak pemrosesan (log audit)", ""]
    lines += await _trail(session, await access_report(session, citizen_id=citizen.id))
    lines += ["", "## 7. Keutuhan log audit", ""]
    lines += _integrity(integrity)
    lines += [
        "",
        "## Hak Anda",
        "",
        "Jika ada data yang keliru atau tidak lengkap, Anda dapat meminta perbaikan kepada "
        "Dinas Sosial Kota Bandung. Jika Anda menilai data Anda diakses tanpa tujuan yang sah, "
        "Anda dapat menyampaikan pengaduan kepada Dinas Sosial atau Ombudsman Republik Indonesia.",
        "",
    ]
    return "\n".join(lines)


async def _household(session: AsyncSession, household: Household | None) -> list[str]:
    """The family-card section."""
    if household is None:
        return ["Tidak ada data keluarga."]
    names = dict(
        (
            await session.execute(
                select(Region.code, Region.name).where(
                    Region.code.in_((household.kelurahan_code, household.kecamatan_code))
                )
            )
        ).all()
    )
    members = await session.scalar(
        select(func.count()).select_from(Citizen).where(Citizen.household_id == household.id)
    )
    return _table(
        ("Data", "Isi"),
        [
            ("Nomor KK", household.kk_number),
            ("Alamat", household.address),
            ("RT/RW", f"{household.rt}/{household.rw}"),
            ("Kelurahan", names.get(household.kelurahan_code, household.kelurahan_code)),
            ("Kecamatan", names.get(household.kecamatan_code, household.kecamatan_code)),
            ("ID DTKS", household.dtks_id),
            ("Desil kesejahteraan", household.welfare_decile),
            ("Jumlah anggota keluarga", members),
            ("Sumber data", household.source),
        ],
    )


async def _needs(session: AsyncSession, citizen_id: int) -> list[str]:
    """The needs section."""
    reporter = aliased(Organization)
    rows = (
        await session.execute(
            select(Need, NeedCategory.label_id, reporter.name)
            .join(NeedCategory, NeedCategory.code == Need.category_code)
            .join(reporter, reporter.id == Need.reported_by_organization_id)
            .where(Need.citizen_id == citizen_id)
            .order_by(Need.reported_at)
        )
    ).all()
    if not rows:
        return ["Tidak ada kebutuhan yang tercatat."]
    return _table(
        ("Dilaporkan", "Kategori", "Uraian", "Tingkat", "Status", "Pelapor"),
        [
            (
                tanggal(need.reported_at.astimezone(WIB).date()),
                label,
                need.description,
                SEVERITIES.get(need.severity, need.severity),
                NEED_STATUSES.get(need.status, need.status),
                organization,
            )
            for need, label, organization in rows
        ],
    )


async def _enrolments(session: AsyncSession, citizen_id: int) -> list[str]:
    """The programme enrolments section."""
    rows = (
        await session.execute(
            select(Enrolment, Program.name, Organization.name)
            .join(Program, Program.code == Enrolment.program_code)
            .join(Organization, Organization.code == Program.agency_code)
            .where(Enrolment.citizen_id == citizen_id)
            .order_by(Enrolment.started_on)
        )
    ).all()
    if not rows:
        return ["Tidak tercatat sebagai peserta program."]
    return _table(
        ("Program", "Penyelenggara", "Mulai", "Selesai"),
        [
            (
                program,
                agency,
                tanggal(enrolment.started_on),
                tanggal(enrolment.ended_on) if enrolment.ended_on else "masih berjalan",
            )
            for enrolment, program, agency in rows
        ],
    )


async def _contributions(session: AsyncSession, citizen_id: int) -> list[str]:
    """The assistance received section."""
    rows = (
        await session.execute(
            select(Contribution, Organization.name, NeedCategory.label_id)
            .join(Organization, Organization.id == Contribution.organization_id)
            .join(NeedCategory, NeedCategory.code == Contribution.category_code)
            .where(Contribution.citizen_id == citizen_id)
            .order_by(Contribution.delivered_on)
        )
    ).all()
    if not rows:
        return ["Tidak ada bantuan yang tercatat."]
    return _table(
        ("Tanggal", "Pemberi", "Kategori", "Jenis", "Nilai", "Jumlah"),
        [
            (
                tanggal(item.delivered_on),
                giver,
                label,
                CONTRIBUTION_KINDS.get(item.kind, item.kind),
                rupiah(item.amount_rupiah) if item.amount_rupiah else None,
                f"{item.quantity} {item.unit or ''}".strip() if item.quantity else None,
            )
            for item, giver, label in rows
        ],
    )


async def _trail(session: AsyncSession, entries: list[AccessEntry]) -> list[str]:
    """The processing-trail section: every recorded access to the person's fields."""
    if not entries:
        return ["Belum ada akses ke data pribadi Anda yang tercatat di log audit."]
    codes = {entry.organization_code for entry in entries if entry.organization_code}
    names = dict(
        (
            await session.execute(
                select(Organization.code, Organization.name).where(Organization.code.in_(codes))
            )
        ).all()
    )
    lines = [
        f"Data pribadi Anda diakses {len(entries)} kali. Setiap akses tercatat beserta "
        "tujuan yang dinyatakan oleh pengaksesnya.",
        "",
    ]
    lines += _table(
        ("No. urut", "Waktu", "Organisasi", "Tujuan", "Kegiatan", "Data yang diakses", "Keputusan"),
        [
            (
                entry.seq,
                waktu(entry.occurred_at),
                names.get(entry.organization_code or "", entry.organization_code or "Sistem"),
                PURPOSES.get(entry.purpose or "", entry.purpose or "tidak dinyatakan"),
                f"{OPERATIONS.get(entry.operation_type or '', entry.operation_type or '-')}"
                + (f" ({entry.operation_name})" if entry.operation_name else ""),
                ", ".join(FIELDS.get(name, name) for name in entry.fields),
                DECISIONS.get(entry.decision, entry.decision),
            )
            for entry in entries
        ],
    )
    return lines


def _integrity(integrity: IntegrityStatus | None) -> list[str]:
    """The integrity section: what the chain's verification found."""
    if integrity is None:
        return ["Keutuhan log audit tidak diperiksa saat laporan ini dibuat."]
    if not integrity.ok:
        seq = integrity.verification.first_bad_seq
        return [
            f"**Peringatan:** pemeriksaan log audit menemukan kejanggalan mulai nomor urut {seq}. "
            "Mintalah penjelasan kepada Dinas Sosial Kota Bandung."
        ]
    lines = [
        "Log audit disusun berantai (setiap catatan memuat sidik SHA-256 catatan sebelumnya) "
        "dan disegel berkala dengan tanda tangan digital Ed25519 milik hub.",
        "",
        f"- Diperiksa: {waktu(integrity.checked_at)}, hasil: utuh.",
    ]
    if integrity.last_checkpoint_seq is not None and integrity.last_checkpoint_at is not None:
        lines.append(
            f"- Segel terakhir: nomor urut {integrity.last_checkpoint_seq}, "
            f"{waktu(integrity.last_checkpoint_at)}."
        )
    return lines
