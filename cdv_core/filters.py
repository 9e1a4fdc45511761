"""The filter object every query takes, and its parameterised SQL conditions."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Filtres:
    """What the person selected; an empty tuple means "all". Hashable, so it can key a cache."""

    annees: tuple[int, ...] = ()
    contrat: str | None = None
    communes: tuple[str, ...] = ()
    qpv: tuple[str, ...] = ()
    piliers: tuple[str, ...] = ()
    thematiques: tuple[str, ...] = ()
    financeurs: tuple[str, ...] = ()
    nature: tuple[str, ...] = ()
    statut: tuple[str, ...] = ()
    porteur_type: tuple[str, ...] = ()
    dispositifs: tuple[str, ...] = ()  # financement.dispositif as written (Cités éducatives, Adultes-relais…)

    def with_(self, **changes) -> Filtres:
        """A copy with some fields changed (lists are turned into tuples)."""
        clean: dict[str, Any] = {k: tuple(v) if isinstance(v, (list, set)) else v for k, v in changes.items()}
        return replace(self, **clean)

    def is_empty(self) -> bool:
        return all(not getattr(self, f.name) for f in fields(self))

    @property
    def split_qpv(self) -> bool:
        """Whether amounts must be the QPV shares of the selected quartiers."""
        return bool(self.qpv or self.communes)


@dataclass
class Sql:
    """A list of conditions with their `?` parameters, in order."""

    conditions: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def add(self, condition: str, *params) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def add_in(self, expr: str, values: tuple) -> None:
        if values:
            self.add(f"{expr} IN ({', '.join('?' for _ in values)})", *values)

    def where(self) -> str:
        return ("WHERE " + " AND ".join(self.conditions)) if self.conditions else ""


def action_conditions(f: Filtres, sql: Sql, alias: str = "a") -> None:
    """Conditions on the action table (years, contract, pillar, thematique, statut, porteur type)."""
    sql.add_in(f"{alias}.annee", f.annees)
    if f.contrat:
        sql.add(f"{alias}.contrat = ?", f.contrat)
    sql.add_in(f"{alias}.pilier", f.piliers)
    if f.thematiques:
        # A theme code ("2") selects its sub-themes ("2.1", "2.2"…).
        marks = ", ".join("?" for _ in f.thematiques)
        sql.add(f"({alias}.thematique IN ({marks}) OR split_part({alias}.thematique, '.', 1) IN ({marks}))",
                *f.thematiques, *f.thematiques)
    sql.add_in(f"{alias}.statut", f.statut)
    sql.add_in(f"{alias}.porteur_type", f.porteur_type)


def qpv_conditions(f: Filtres, sql: Sql, alias: str = "q") -> None:
    """Conditions on the per-QPV split (selected quartiers, or quartiers of the selected communes)."""
    sql.add_in(f"{alias}.code_qpv", f.qpv)
    if f.communes:
        marks = ", ".join("?" for _ in f.communes)
        sql.add(f"{alias}.code_qpv IN (SELECT code_qpv FROM qpv_commune WHERE code_insee IN ({marks}))",
                *f.communes)


def financement_conditions(f: Filtres, sql: Sql, alias: str = "f") -> None:
    """Conditions on funding lines (funder, nature, dispositif)."""
    sql.add_in(f"{alias}.financeur", f.financeurs)
    sql.add_in(f"{alias}.nature", f.nature)
    sql.add_in(f"{alias}.dispositif", f.dispositifs)
