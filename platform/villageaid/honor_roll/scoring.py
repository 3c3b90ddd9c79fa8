"""How the roll is scored and ranked: the rule the edition page publishes, in one place.

Only deliveries a curator verified within the edition's period count (the instant of verification,
in China's dates), of verified organisations, or of individuals who agreed to be named and did not
pledge anonymously. Per honoree:

- funds: fen delivered as funds or project investment;
- jobs filled: people hired; those still employed after 3 months count fully, the others half;
- villages helped: distinct villages with a verified delivery;
- beneficiaries: the registered poor people (建档立卡贫困人口) of the distinct needs helped.

score = weight_funds × 万元 + weight_jobs × (retained + ½ × not retained) + weight_villages × villages
        + weight_beneficiaries × beneficiaries

kept in hundredths of a point as an integer, so two computations always agree. Ties are broken, in
order, by more funds, more jobs filled, more villages, the earlier first verified delivery, and
last the earlier registration on the platform (the smaller id) — so no two candidates ever share a
place.
"""
from dataclasses import dataclass
from datetime import datetime

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen


@dataclass
class Figures:
    """One candidate's figures, as the aggregate returns them."""

    owner_id: int
    funds_fen: int = 0
    jobs_filled: int = 0
    jobs_retained: int = 0
    villages_helped: int = 0
    beneficiaries: int = 0
    deliveries_count: int = 0
    first_verified_at: datetime | None = None
    score: int = 0


def score(figures, weights):
    """The score in hundredths of a point (integer arithmetic: exact and reproducible)."""
    retained = min(figures.jobs_retained, figures.jobs_filled)
    return (weights["weight_funds"] * figures.funds_fen * 100 // FEN_PER_WAN
            + weights["weight_jobs"] * (100 * retained + 50 * (figures.jobs_filled - retained))
            + weights["weight_villages"] * 100 * figures.villages_helped
            + weights["weight_beneficiaries"] * 100 * figures.beneficiaries)


def sort_key(figures):
    """Best first: score, funds, jobs, villages (all descending), first verification, id (ascending)."""
    first = figures.first_verified_at.timestamp() if figures.first_verified_at else float("inf")
    return (-figures.score, -figures.funds_fen, -figures.jobs_filled, -figures.villages_helped, first,
            figures.owner_id)


def rank(all_figures, weights):
    """Score every candidate and return them best first."""
    for figures in all_figures:
        figures.score = score(figures, weights)
    return sorted(all_figures, key=sort_key)


def points(score_hundredths):
    """A score for display: 1234.5 points from 123450."""
    return score_hundredths / 100
