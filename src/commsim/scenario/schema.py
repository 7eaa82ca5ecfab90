"""The scenario schema: one typed, bounded, documented parameter tree that mirrors the TOML files.

Data only, no logic. Units are in the field names (`_km`, `_per_month`, `_months`, `_usd`); `p_` marks a
probability, `rel_` a multiplier. Each default that rests on a published number names its source in the
field's description (sources: ../shared/evidence.md).
"""

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from commsim.scenario.files import shown_key, shown_value

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Month = Annotated[int, Field(ge=0, le=1200)]
Visits = Annotated[float, Field(ge=0.0, le=300.0)]  # household visits by one CHW a month: 15 a day on 20 days at most
Usd = Annotated[float, Field(ge=0.0, le=1_000_000.0)]  # a unit cost above US$1M is a typo, and sums stay finite
INTERVENTION_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*")  # no '.' or '__': names are in dotted keys


def inconsistent(key: str, message: str) -> PydanticCustomError:
    """A cross-field error at dotted `key` (below the model that raises it); the loaders add the key to the path."""
    return PydanticCustomError("inconsistent", message.replace("{", "(").replace("}", ")"), {"key": key})


def error_key(error: Mapping[str, Any]) -> str:
    """The dotted key a pydantic error is about: its location, and the key a cross-field rule names below it."""
    loc = [str(part) for part in error["loc"]]
    if error["type"] == "inconsistent":
        loc.append(error["ctx"]["key"])
    return ".".join(map(shown_key, loc)) or "(top level)"


BOUND_WORDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def error_text(error: Mapping[str, Any], allowed: Sequence[str] = ()) -> str:
    """What a pydantic error says is wrong, in the words every file loader uses: an unknown key with the keys
    `allowed` there (and the closest), a cross-field rule's own message, a bound with the value given."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown key{hint}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    if kind == "inconsistent":
        return error["msg"]
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    given = "input" in error and not isinstance(error["input"], dict)
    got = f" (got {shown_value(error['input'])})" if given else ""
    bounds = [f"{word} {ctx[k]}" for k, word in BOUND_WORDS if k in ctx]
    return f"must be {' and '.join(bounds)}{got}" if bounds else f"{error['msg']}{got}"


def check_name(key: str, value: str) -> None:
    """Names are one line of printable text: they appear in tables, file names and one-line messages."""
    if not value.isprintable():
        raise inconsistent(key, f"must be one line of printable text (got {shown_value(value)})")


class Strict(BaseModel):
    """Base for every table: unknown keys are errors, assignments are validated, numbers are finite."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


class Population(Strict):
    """The synthetic rural district: its size in households, and densities that make a bigger district more of
    the same district (villages, area and facilities grow with the households). A count set explicitly wins."""

    households: int = Field(20_000, ge=10, le=50_000_000, description="Index women (one per household).")
    households_per_village: float = Field(
        250.0,
        ge=1.0,
        le=100_000.0,
        description="Mean households per village (villages = households / this). Rural Mali: about 1,200 people "
        "per village at the 2009 census (RGPH 2009: ~12,000 villages, 14.5M people) and 5-6 people per household "
        "(DHS 2018): 200-250 households.",
    )
    households_per_km2: float = Field(
        50.0 / 9.0,
        gt=0.0,
        le=10_000.0,
        description="Households per km2 of the square district (area = households / this, the facilities' rounded "
        "count times the area each serves): 5.6, about 33 people "
        "per km2, as in Mali's southern regions (Sikasso, Koulikoro: 30-40 people per km2, RGPH 2009).",
    )
    households_per_facility: float = Field(
        2500.0,
        ge=10.0,
        le=10_000_000.0,
        description="Households per first-level health facility (facilities = households / this): a Malian CSCom "
        "serves a health area of 10,000-15,000 people (Mali PRODESS norms), about 2,000-2,500 households.",
    )
    referral_share: Share = Field(
        0.125,
        description="Share of facilities that are referral level (at least one): Mali has one district referral "
        "centre (CSRef) for some 8-30 CSComs.",
    )
    villages: int | None = Field(
        None, ge=1, le=1_000_000, description="Villages, placed at random in the square (None: from the density)."
    )
    side_km: float | None = Field(
        None, gt=0.0, le=5000.0, description="Side of the square district, km (None: from the density)."
    )
    facilities: int | None = Field(
        None, ge=1, le=30_000, description="Health facilities, at the largest villages (None: from the density)."
    )
    referral_facilities: int | None = Field(
        None,
        ge=0,
        le=30_000,
        description="How many facilities are level-2 (referral) with larger capacity (None: from referral_share).",
    )
    village_radius_km: float = Field(1.0, gt=0.0, le=20.0, description="Spread of homes around a village centre, km.")
    wealth_remoteness: Share = Field(
        0.5,
        description="Weight of remoteness in a household's wealth rank (0: none, 1: wealth is remoteness).",
    )
    initial_mcpr_married: Share = Field(
        0.16,
        description="Modern contraceptive prevalence at month 0 among married women (Mali DHS 2018: 16%, FP2030 "
        "Mali page; Track20 17% for 2020); users are drawn among married women with a need.",
    )
    initial_awareness: Share = Field(0.45, description="Mean awareness of modern methods at month 0.")
    leaders_supportive: Share = Field(
        0.3,
        description="Share of villages whose leaders (chief, imam, elders) back family planning at month 0, which "
        "scales group activity and CHW outreach there (groups.rel_activity_leader_supportive). Leaders' messages "
        "reached 2 in 5 women in urban Nigeria (Adedini 2018, GHSP 6:500); no share for rural Mali retrieved: "
        "reasoned 0.3 (range 0.1-0.6).",
    )
    leaders_hostile: Share = Field(
        0.15,
        description="Share of villages whose leaders oppose family planning at month 0 (the rest are neutral). "
        "Religious leaders in Niger who backed spacing saw a personal risk in saying so (PSI Transform/PHARE, "
        "formative research); no share retrieved: reasoned 0.15 (range 0-0.4).",
    )
    initial_trust: Share = Field(0.5, description="Mean trust in services at month 0.")
    district: str | None = Field(
        None,
        description="A district directory (`districts/<name>`, with its district.toml) whose settlements and "
        "facilities replace the synthetic square: its files then set households, villages (one per settlement), "
        "facilities, referral_facilities and side_km, whatever else is set. None: the synthetic district.",
    )
    persons_per_household: float = Field(
        7.8,
        gt=0.0,
        le=100.0,
        description="People per household, which turns a district's settlement populations into households where "
        "they give no household count: 7.8 in Mali in 2016 and 2017 (INSTAT, Enquete modulaire et permanente "
        "aupres des menages, EMOP 2017: taille moyenne des menages; 8.2-10.7 in 2011-2015).",
    )
    index_women_per_household: float = Field(
        1.0,
        gt=0.0,
        le=10.0,
        description="Index women the model simulates per household of a district's files: 1, the model's unit (one "
        "woman of reproductive age per household, as in the synthetic district); Mali's DHS 2018 interviewed "
        "10,519 women 15-49 in 9,510 households (1.1 each), the value to simulate every woman.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_district(cls, data: Any) -> Any:
        """With a district, its files set the counts and the extent (read here, so every count derived from
        the scenario, from memory estimates to the UI, is the district's)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("district"), str):
            return data
        from commsim.scenario.district import index_women, read_district

        fields = cls.model_fields
        per_household = data.get("persons_per_household", fields["persons_per_household"].default)
        women = data.get("index_women_per_household", fields["index_women_per_household"].default)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in (per_household, women)):
            return data  # their own validation names them
        geo = read_district(data["district"], float(per_household))
        return {
            **data,
            "households": int(index_women(geo, float(women)).sum()),
            "villages": int(geo.sx.size),
            "facilities": int(geo.fx.size),
            "referral_facilities": int((geo.level == 2).sum()),
            "side_km": max(geo.width_km, geo.height_km, 1.0),
        }

    @property
    def n_villages(self) -> int:
        """Villages: as set, else households / households_per_village (at least one, at most one per household)."""
        if self.villages is not None:
            return self.villages
        return min(self.households, max(1, round(self.households / self.households_per_village)))

    @property
    def n_facilities(self) -> int:
        """Facilities: as set, else households / households_per_facility (at least one, at most one per village)."""
        if self.facilities is not None:
            return self.facilities
        return min(self.n_villages, max(1, round(self.households / self.households_per_facility)))

    @property
    def n_referral_facilities(self) -> int:
        """Referral facilities: as set, else the referral share of the facilities (at least one)."""
        if self.referral_facilities is not None:
            return self.referral_facilities
        return min(self.n_facilities, max(1, round(self.n_facilities * self.referral_share)))

    @property
    def district_side_km(self) -> float:
        """Side of the square: as set; else, with the facilities from their density, the area they serve at the
        densities (households_per_facility / households_per_km2 km2 each), so that a woman is as far from a
        facility at every size even where the count rounds (2,000 households: 1 facility, not 0.8); else the
        side of households / households_per_km2 km2."""
        if self.side_km is not None:
            return self.side_km
        if self.facilities is None:
            return math.sqrt(self.n_facilities * self.households_per_facility / self.households_per_km2)
        return math.sqrt(self.households / self.households_per_km2)

    @model_validator(mode="after")
    def _fits(self) -> "Population":
        """Each village needs a household, each facility a village of its own, each referral one a facility:
        beyond these the model would leave villages empty, stack facilities or silently drop referral levels."""
        if self.n_villages > self.households:
            raise inconsistent("villages", f"must be at most households ({self.households}) (got {self.n_villages})")
        if self.n_facilities > self.n_villages:
            raise inconsistent("facilities", f"must be at most villages ({self.n_villages}) (got {self.n_facilities})")
        if self.n_referral_facilities > self.n_facilities:
            raise inconsistent(
                "referral_facilities",
                f"must be at most facilities ({self.n_facilities}) (got {self.n_referral_facilities})",
            )
        if self.leaders_supportive + self.leaders_hostile > 1.0:
            raise inconsistent(
                "leaders_hostile",
                f"with leaders_supportive ({self.leaders_supportive:g}) must add up to at most 1 "
                f"(got {self.leaders_hostile:g})",
            )
        return self


AGE_GROUPS: tuple[str, ...] = ("15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49")
ByAge = Annotated[list[Share], Field(min_length=len(AGE_GROUPS), max_length=len(AGE_GROUPS))]


class Women(Strict):
    """Index women's reproductive lives: age, union, pregnancy, births, the months after a birth and a fertility
    intention (a child soon, later, or no more) from which her need for family planning follows as the DHS
    defines it: in union, not pregnant, not postpartum-insusceptible, and wanting to wait or to stop. Values
    "by age" are for the 5-year groups 15-19 ... 45-49. Where no published Mali 2018 figure was found the
    description says so and the value is a reasoned one (sensitivity ranges in the README)."""

    age_shares: ByAge = Field(
        [0.235, 0.205, 0.165, 0.135, 0.110, 0.085, 0.065],
        description="Share of women 15-49 in each age group at month 0; women age a month each month and at 50 a "
        "15-year-old takes her household's place. 15-24 is 44% of women 15-49 in Mali (DHS 2018, further analysis "
        "FA134); the split within 15-49 is reasoned (a young UN WPP-like pyramid), unverified.",
    )
    in_union_by_age: ByAge = Field(
        [0.40, 0.80, 0.90, 0.92, 0.91, 0.89, 0.84],
        description="Share married or in union by age group, at month 0 and kept by union entry. Mali: median age "
        "at first union 16.6 (DHS 2018, via SWEDD); the shares by age are reasoned (Sahel DHS shape, ~80% "
        "overall), unverified.",
    )
    union_dissolution_per_month: Rate = Field(
        0.001, description="Monthly chance a union ends (widowhood, divorce): reasoned ~1% a year (0.05-0.2%/month)."
    )
    fecundability_by_age: ByAge = Field(
        [0.090, 0.110, 0.120, 0.112, 0.087, 0.040, 0.005],
        description="Monthly chance of conceiving without contraception, by age: PRESTO (Wesselink 2017) as used "
        "by FPsim, 1-(1-p)^(1/12) of its annual 65% at 15, 79% at 25, 67% at 37, 56% at 40, 8% at 45.",
    )
    sterile_by_age: ByAge = Field(
        [0.01, 0.03, 0.06, 0.08, 0.15, 0.32, 0.69],
        description="Share of women who can no longer conceive (sterile or menopausal), at the middle of each age "
        "group: Menken, Trussell & Larsen 1986 (Science 233:1389), upper bounds from historical natural-fertility "
        "populations, 3% at 20-24 to 69% at 45-49; 15-19 reasoned. An infecund woman does not conceive; a user "
        "keeps her method until she notices (p_notice_infecund_per_month), a non-user has no need for family "
        "planning (the DHS counts her infecund). fecundability_by_age applies to the fecund, divided by 1 - this "
        "share.",
    )
    p_notice_infecund_per_month: Share = Field(
        0.1,
        description="Monthly chance that a user who has become infecund notices (her periods end, or she finds "
        "she cannot conceive) and stops her method, as non-users past that age have no need (DHS reason 'difficult "
        "to get pregnant/menopausal'). Reasoned, range 0.05-0.3 (most notice within a year): without it users keep "
        "their methods to 50 and use at 45-49 stays above use at 25-39, against the DHS's age pattern.",
    )
    exposure_in_union: Share = Field(
        0.93,
        description="Share of a married woman's months she is exposed to pregnancy (husband present, not "
        "abstaining): it scales fecundability. Calibrated with targets/mali_dhs2018.toml (TFR 6.3, DHS 2018) "
        "once infecundity was modelled (sterile_by_age): 0.93; below 1 for labour migration of husbands, common "
        "in Mali (reasoned, range 0.7-1).",
    )
    pregnancy_loss_by_age: ByAge = Field(
        [0.14, 0.11, 0.10, 0.11, 0.17, 0.33, 0.57],
        description="Share of pregnancies lost (miscarriage, stillbirth) by age (Magnus 2019 BMJ, as in FPsim: "
        "0.11 at 20, 0.10 at 25, 0.17 at 35, 0.33 at 40, 0.57 at 45); the loss ends the pregnancy at month 3.",
    )
    abortion_share_unintended: Share = Field(
        0.20,
        description="Share of unintended pregnancies ended by induced abortion (at month 2). Not found for Mali: "
        "61% worldwide (Bearak 2020), far lower where abortion is restricted; reasoned 0.2 (range 0.1-0.4).",
    )
    amenorrhoea_months: float = Field(
        14.0,
        ge=1.0,
        le=24.0,
        description="Mean months after a birth without risk of pregnancy (amenorrhoea and abstinence): Sahel DHS "
        "medians 12-16; Mali 2018 not found (reasoned). It ends at 24 months at the latest.",
    )
    wait_months_after_birth: float = Field(
        48.0,
        ge=1.0,
        le=240.0,
        description="Mean months after a birth that a woman who wants more children wants to wait before the "
        "next one: at the birth she draws her own wait (Weibull, shape wait_shape), and when it is over she wants a "
        "child soon and stops her method. Calibrated to unmet need 24% of married women (targets/"
        "mali_dhs2018.toml) with wait_shape 0.5: 48, whose median is 12 months (many waits end within "
        "insusceptibility after the birth, a third last over 3 years); waits are whole months up to 255 (a longer "
        "one is a wish for no more in all but name), which brings the mean of the waits drawn to 40. Mali DHS 2001 "
        "gives a preferred birth interval of 35 months against an actual median of 31 (slides, unverified).",
    )
    wait_shape: float = Field(
        0.5,
        ge=0.2,
        le=5.0,
        description="Weibull shape of the waits women draw after a birth: 1 is exponential; below 1 women differ "
        "more (many short waits, some long), and users, who are the women still waiting once insusceptibility "
        "ends, then want a child later. Calibrated to the wish for a child's share of 12-month discontinuation, "
        "13.7 of Mali 2012-13's 44.3 points (Popul Dev Rev 2017 43(S1) Table 4): 0.5 (at 1, the model's users "
        "stopped for it twice as often as Mali's).",
    )
    ideal_children: float = Field(
        6.0,
        ge=1.0,
        le=15.0,
        description="Mean number of children a woman wants in all (Poisson, at least 1); after a birth that "
        "reaches it she wants no more. Mali DHS 2018 ideal family size not found; ~6 (reasoned, range 5-7).",
    )
    asfr_by_age: ByAge = Field(
        [0.178, 0.284, 0.281, 0.218, 0.171, 0.083, 0.045],
        description="Births per woman per year by age, used only to start the district (who is pregnant, who "
        "gave birth recently, parity): Mali DHS 2012-13 (172, 272, 166, 44 per 1000 at 15-19, 25-29, 35-39, "
        "45-49; TFR 6.1, RMST 2013), the other groups interpolated, scaled to the 2018 TFR of 6.3.",
    )

    @model_validator(mode="after")
    def _shares_add_up(self) -> "Women":
        if abs(sum(self.age_shares) - 1.0) > 1e-6:
            raise inconsistent("age_shares", f"must add up to 1 (got {sum(self.age_shares):.6g})")
        return self


METHODS: tuple[str, ...] = ("pill", "injectable", "self_injection", "implant", "iud", "condom")
MethodName = Literal["pill", "injectable", "self_injection", "implant", "iud", "condom"]
if get_args(MethodName) != METHODS:  # the two spellings of the methods must stay one list
    raise RuntimeError("MethodName and METHODS name different methods")


class Method(Strict):
    """One modern method: how well it works, how often women stop it, how often she returns for it, what a
    visit dispenses and what that is worth in couple-years of protection (CYP), and who may provide it."""

    failure_12m: Share = Field(
        description="Pregnancies within 12 months of typical use (Polis 2016, median of 43 DHS)."
    )
    stop_12m: Share = Field(
        description="Share stopping within 12 months for method-related reasons (side effects, health concerns, "
        "other), besides failure and the wish for a child, which the model adds."
    )
    months_per_visit: int = Field(ge=1, le=240, description="Months one visit covers: resupply or removal after it.")
    units_per_visit: float = Field(gt=0.0, le=1000.0, description="Units dispensed at a visit (cycles, doses, pieces).")
    cyp_per_unit: float = Field(gt=0.0, le=20.0, description="CYP per unit dispensed (USAID conversion factors).")
    unit_cost_usd: Usd = Field(
        description="Commodity cost per unit, with the consumables of a visit spread over it (UNFPA catalogue "
        "prices of Sept 2015, via GHSP 2016 Table 2)."
    )
    provider_minutes_first: float = Field(
        ge=0.0,
        le=240.0,
        description="Provider minutes at a new user's visit: counselling and provision, and an implant's or IUD's "
        "later removal (GHSP 2016 costing model, Table 3).",
    )
    provider_minutes_resupply: float = Field(
        ge=0.0,
        le=240.0,
        description="Provider minutes at a resupply visit, or at an implant's or IUD's replacement (GHSP 2016 "
        "costing model, Table 3).",
    )
    by_chw: bool = Field(description="A CHW may provide it at home (national policy; a scenario can change it).")
    long_acting: bool = Field(False, description="Inserted and removed at a facility (implant, IUD).")
    weight: float = Field(gt=0.0, le=100.0, description="Relative choice weight, before her situation and stock.")
    rel_stockout: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Multiplies a facility's monthly stockout chance (1 - facilities.stock_reliability) for this "
        "method: FP2020 core indicator 10 finds stockouts rarer for the methods most dispensed at primary level "
        "(condoms, pills, injectables) than for implants and IUDs (FP2020 Progress 2017); the factors are reasoned.",
    )


class Methods(Strict):
    """The modern methods and how women choose among them. Sources of the defaults:
    - failure_12m: typical use, median of 43 DHS (Polis et al. 2016, Guttmacher); self-injection as DMPA-IM.
    - stop_12m: Mali 2012-13 lost 44.3% of episodes in 12 months, 25.9 points of it to method-related and other
      reasons (Popul Dev Rev 2017 43(S1) Table 4), split by method as in SSA calendar data (Arusha 2018: implants
      12.3%, condoms 60.1% of all reasons; injectables 32% across 21 DHS); self-injection halves the stopping of
      DMPA-IM (continuation 81% vs 65%, Cover 2018 Uganda; HR 0.43, Burke 2018 Malawi). Reasoned from these.
    - months_per_visit: 3 pill cycles (reasoned), an injection every 13 weeks, self-injectors take a year's 4
      doses home (Burke 2018), Jadelle 5 years, copper IUD labelled 10-12 years.
    - cyp_per_unit: USAID factors (2011: 15 cycles, 4 doses, 120 condoms per CYP; 2021/22: 5-year implant 3.8,
      copper IUD 4.6).
    - unit_cost_usd: UNFPA catalogue prices of Sept 2015 (pill 0.27, DMPA-IM 0.72 + 0.34 consumables, DMPA-SC
      1.00 + 0.34 over 4 doses, implant 8.50 + 1.32 insertion + 1.32 removal, IUD 0.35 + 0.90 + 0.90, condom
      0.03), via GHSP 2016 (PMC4990165) Table 2.
    - provider_minutes_first, provider_minutes_resupply: "total labor time included in the model" (GHSP 2016,
      Table 3, seen as a table excerpt; by its title the model of Table 2, unverified): counselling and provision
      25 min for pills and injectables (DMPA-IM, Sayana Press), 20 for condoms, 35 for implants and IUDs;
      resupply 5; removal 15 (implant), 10 (IUD). As the unit cost carries the removal's consumables, an implant
      or IUD visit carries its removal's minutes: 50 and 45, at insertion and at replacement alike. Teaching a
      woman to self-inject is not timed apart (reasoned).
    - weight: the share of new users choosing it, before her situation: set so that the district stays near
      Mali's mix (implant ~40%, injectables ~35%, pill ~15% of users; long-acting methods last, so their weight is
      below their share). The Mali DHS 2018 mix was not retrieved; neighbours' DHS and PMA put implants at
      30-48% of the mix (reasoned, unverified).
    - by_chw: Mali's community health workers (ASC) give pills, condoms and injectables; implants and IUDs at
      facilities (policy text not retrieved: unverified).
    - rel_stockout: implants and IUDs 1.5, DMPA-SC 2 (a newer product with a thinner pipeline), reasoned from the
      FP2020 stockout indicator's pattern (see the field).
    Sterilisation is left out: Mali DHS 2018 puts it under 1% of married women, and no CHW or health post in
    the district provides it."""

    pill: Method = Method(
        failure_12m=0.055,
        stop_12m=0.30,
        months_per_visit=3,
        units_per_visit=3.0,
        cyp_per_unit=1 / 15,
        unit_cost_usd=0.27,
        provider_minutes_first=25.0,
        provider_minutes_resupply=5.0,
        by_chw=True,
        weight=0.33,
    )
    injectable: Method = Method(
        failure_12m=0.017,
        stop_12m=0.24,
        months_per_visit=3,
        units_per_visit=1.0,
        cyp_per_unit=0.25,
        unit_cost_usd=1.06,
        provider_minutes_first=25.0,
        provider_minutes_resupply=5.0,
        by_chw=True,
        weight=0.78,
    )
    self_injection: Method = Method(
        failure_12m=0.017,
        stop_12m=0.12,
        months_per_visit=12,
        units_per_visit=4.0,
        cyp_per_unit=0.25,
        unit_cost_usd=1.09,
        provider_minutes_first=25.0,
        provider_minutes_resupply=5.0,
        by_chw=True,
        weight=0.035,
        rel_stockout=2.0,
    )
    implant: Method = Method(
        failure_12m=0.006,
        stop_12m=0.07,
        months_per_visit=60,
        units_per_visit=1.0,
        cyp_per_unit=3.8,
        unit_cost_usd=11.14,
        provider_minutes_first=50.0,
        provider_minutes_resupply=50.0,
        by_chw=False,
        long_acting=True,
        weight=0.20,
        rel_stockout=1.5,
    )
    iud: Method = Method(
        failure_12m=0.014,
        stop_12m=0.08,
        months_per_visit=120,
        units_per_visit=1.0,
        cyp_per_unit=4.6,
        unit_cost_usd=2.15,
        provider_minutes_first=45.0,
        provider_minutes_resupply=45.0,
        by_chw=False,
        long_acting=True,
        weight=0.015,
        rel_stockout=1.5,
    )
    condom: Method = Method(
        failure_12m=0.054,
        stop_12m=0.45,
        months_per_visit=3,
        units_per_visit=36.0,
        cyp_per_unit=1 / 120,
        unit_cost_usd=0.03,
        provider_minutes_first=20.0,
        provider_minutes_resupply=5.0,
        by_chw=True,
        weight=0.19,
    )
    rel_weight_long_acting_no_more: float = Field(
        3.0, ge=0.0, le=100.0, description="Long-acting methods' weight for a woman who wants no more (reasoned)."
    )
    long_acting_full_wait_months: float = Field(
        24.0,
        ge=1.0,
        le=120.0,
        description="A woman who wants to wait fewer months than this before her next child weighs long-acting "
        "methods by the share of it she wants to wait: nobody inserts a method of years to wait a few months. "
        "Reasoned (range 12-36): Arusha 2018 lost 12.3% of implant users in 12 months for all reasons together.",
    )
    rel_weight_long_acting_young: float = Field(
        0.5, ge=0.0, le=100.0, description="Long-acting methods' weight for a woman under 20 (reasoned)."
    )
    rel_weight_previous: float = Field(
        0.3, ge=0.0, le=100.0, description="Weight of the method she last stopped, when she chooses again (reasoned)."
    )
    early_months: int = Field(
        6, ge=1, le=12, description="The first months on a method, when method-related stopping runs higher."
    )
    rel_stop_early: float = Field(
        1.5,
        ge=1.0,
        le=10.0,
        description="Method-related stopping in the first early_months relative to later, with the 12-month share "
        "kept at stop_12m: DHS calendar life tables lose users fastest in the first months (Ali, Cleland & Shah "
        "2012, WHO); the factor is reasoned (range 1-3).",
    )
    p_switch: Share = Field(
        0.15,
        description="Share of women who stop a method for method-related reasons while still in need and take "
        "another method at once from the same provider: switching within 3 months of method-related "
        "discontinuation is lowest where human development is low and unmet need high (Ali & Cleland 2010, Stud "
        "Fam Plann 41:129); ~15% for Mali (reasoned from their West African estimates; range 0.1-0.3).",
    )
    p_switch_at_stockout: Share = Field(
        0.2,
        description="A woman whose method is out of stock where she seeks it takes another method that is in "
        "stock there with this chance; otherwise she leaves without (a failed visit) and a user tries again next "
        "month. No source found: calibrated with households.rel_stop so that switching at stockouts and stopping "
        "while in need together stay within Mali's 25.9 points of 12-month discontinuation while in need: 0.2 "
        "(range 0.1-0.5; at 0.5, stockout switches alone cost injectable users a quarter of their episodes a year).",
    )

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        """A method's table in a file or an override sets only the keys it names; the rest keep the defaults."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name in METHODS:
            given = merged.get(name)
            if isinstance(given, dict):
                merged[name] = {**cls.model_fields[name].default.model_dump(), **given}
        return merged

    def table(self) -> list[Method]:
        """The methods in METHODS order (method code k + 1 is METHODS[k])."""
        return [getattr(self, name) for name in METHODS]


class Households(Strict):
    """How index women decide: adoption, discontinuation, facility choice, trust."""

    rate_external_per_month: float = Field(
        0.008,
        ge=0.0,
        le=1.0,
        description="Adoption propensity from outside contact (mass media, market).",
    )
    rate_awareness_per_month: float = Field(
        0.44,
        ge=0.0,
        le=1.0,
        description="Adoption propensity per unit of awareness: calibrated to mCPR 16% of married women "
        "(targets/mali_dhs2018.toml, DHS 2018): 0.44.",
    )
    rate_peer_per_month: float = Field(
        0.30,
        ge=0.0,
        le=1.0,
        description="Adoption propensity from peers at full exposure (Valente 1996 exposure; "
        "Rosero-Bixby & Casterline 1993 diffusion).",
    )
    peer_half_saturation: float = Field(
        0.15,
        gt=0.0,
        le=10.0,
        description="Exposure at which the peer effect is half its maximum: influence saturates, the first user "
        "contact matters most (Behrman, Kohler & Watkins 2002).",
    )
    village_peer_weight: Share = Field(
        0.5, description="Weight of the village's users for women outside an active group."
    )
    trust_weight: Share = Field(0.8, description="How much adoption depends on trust (0: not at all).")
    distance_odds_per_km: float = Field(
        0.84,
        gt=0.0,
        le=1.0,
        description="A woman's access to a facility falls by this factor per km. Calibrated so that the use the "
        "model produces falls with distance as published (`commsim validate`: odds 0.90 a km for skilled birth care, "
        "Wong 2017 PLoS One e0184432; OR 2.27 within 5 km, Tegegne 2018): 0.84. The use gradient is flatter than "
        "the access gradient because women without need and CHW clients dilute it. Rural Mali's own gradient is "
        "steeper still (2-5 km aOR ~0.5, 5-10 km ~0.33 against the nearest women, Whidden 2021 Reprod Health "
        "18:36, Bankass, mCPR < 5%).",
    )
    distance_levels_off_km: float = Field(
        10.0,
        gt=0.0,
        le=200.0,
        description="Distance beyond which access falls no further (Wong 2017: levels off).",
    )
    rel_access_poorest: float = Field(
        0.8,
        gt=0.0,
        le=1.0,
        description="Access of the poorest quintile relative to the richest (linear between).",
    )
    choice_per_km: float = Field(
        0.3,
        ge=0.0,
        le=10.0,
        description="Disutility per km when choosing between the two nearest facilities.",
    )
    choice_quality: float = Field(
        2.6,
        ge=0.0,
        le=100.0,
        description="Utility per unit of quality: women travel ~8.6 km further to avoid fees (Elewonibi 2020).",
    )
    choice_stock: float = Field(
        3.3,
        ge=0.0,
        le=100.0,
        description="Utility per unit of stock reliability: ~11 km further to avoid a stockout (Elewonibi 2020).",
    )
    rel_stop: float = Field(
        0.6,
        ge=0.0,
        le=10.0,
        description="Multiplies every method's method-related stopping (methods.*.stop_12m), calibrated with "
        "targets/mali_dhs2018.toml so that, with quality, the wish for a child, failed resupply and stockouts, 44% "
        "of new users stop within 12 months as in Mali 2012-13 (38-50% elsewhere, Castle & Askew 2015), 25.9 "
        "points of it while still in need (side effects, health and other reasons, Popul Dev Rev 2017 43(S1) "
        "Table 4): 0.6. Below 1 because the calendar data's other reasons include access, supply and switching, "
        "which the model adds itself (failed resupply, stockouts).",
    )
    rel_discontinue_poor_quality: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="Hazard multiplier is 1 + this x (1 - quality of the source).",
    )
    rel_discontinue_follow_up: float = Field(
        0.6, ge=0.0, le=1.0, description="Hazard multiplier in a month with a CHW follow-up visit."
    )
    p_discontinue_failed_resupply: Share = Field(
        0.03,
        description="A resupply she cannot make (her facility's distance decay this month: she knows its service "
        "already, so quality acts on her stopping instead) or that meets a stockout or a full clinic ends use with "
        "this probability; otherwise she tries again next month. No source found: calibrated with rel_stop and "
        "methods.p_switch_at_stockout so that 12-month discontinuation while in need is Mali's (see rel_stop) and "
        "injectables', resupplied every 3 months, stays within the 21 DHS's 32% +- a third: 0.03 (range 0.01-0.1).",
    )
    awareness_decay_per_month: Rate = Field(0.01, description="Forgetting.")
    trust_gain_served: Rate = Field(0.05, description="Trust moves this far toward 1 after good service.")
    trust_loss_failed: Rate = Field(0.2, description="Trust moves this far toward 0 after a stockout or a full clinic.")
    p_partner_opposes: Share = Field(
        0.25,
        description="Chance that a woman's partner opposes family planning, drawn when she enters a union (and for "
        "married non-users at month 0): 23% of married women with unmet need in 52 countries' DHS cite their own or "
        "others' opposition (Sedgh 2016, Guttmacher), and 50% of Malian women name husbands' pressure to have more "
        "children (Sidibe 2020, IJERPH 17:4399, a convenience sample). No Mali DHS figure retrieved: reasoned 0.25 "
        "(range 0.1-0.5).",
    )
    rel_adopt_partner_opposed: Share = Field(
        0.5,
        description="A woman's adoption propensity while her partner opposes, relative to a woman whose partner "
        "approves: in Mali's DHS 2001 (7,671 women in union) partner approval and discussion with the partner had "
        "odds ratios of 1.4-2.7 for modern use (Kaggwa 2008, Int Fam Plan Perspect 34:79); 7.3 for discussing FP "
        "with the husband in a cross-sectional sample (Sidibe 2020). 0.5 (range 0.15-0.7). The adoption rates are "
        "the district's average woman's, so an approved woman's is 1 / (1 - p_partner_opposes x (1 - this)) of them.",
    )
    rel_adopt_partner_engaged: float = Field(
        1.8,
        ge=1.0,
        le=5.0,
        description="A woman's adoption propensity once men's sessions have reached her partner and he talks FP "
        "with her, relative to a woman whose partner approves: in Malawi, among couples using nothing at the start, "
        "78% against 59% used a method after six months of peer motivators' visits to every man (Shattuck 2011, Am "
        "J Public Health 101:1089; communication within the couple the only predictor of uptake), a hazard ratio "
        "of ln 0.22 / ln 0.41 = 1.70 against control couples. As access and service cap a month's adoption, the "
        "model gives that ratio at 1.8 (tests/test_pathways.py, reached against unreached couples in need; range "
        "1.3-2.7, with Kaggwa 2008's odds ratios for discussion with the partner). Where the sessions stop, the talk "
        "lapses at groups.knowledge_fade_per_month, as members' learning does.",
    )
    p_referral_lost: Rate = Field(
        0.26,
        description="Chance a group's referral is lost on its way to her CHW and facility, where no shared record "
        "carries it: community-to-facility referral completion had a median of 74% (range 34-97%) in 8 studies "
        "(Kozuki 2015, BMC Public Health 15:989), so 0.26 (range 0.03-0.66). On a shared record none is lost.",
    )
    rel_trust_loss_known: Share = Field(
        0.5,
        description="Share of the usual trust loss a failed visit costs a woman who arrives known, referred on a "
        "shared record: a referral slip that brings no preferential treatment is a barrier (Give 2019, BMC Health "
        "Serv Res 19:263), and only 16% of facility workers reported back to the referring CHW (Nsibande 2013, "
        "BMC Health Serv Res 13:47). No figure: reasoned 0.5 (range 0.25-1).",
    )
    trust_gain_chw_visit: Rate = Field(0.02, description="Trust moves this far toward 1 after a CHW visit.")
    trust_gain_interface_per_month: Rate = Field(
        0.025,
        description="A member of a group whose reports an accountability mechanism makes its facility and CHW "
        "answer: her trust moves this far toward 1 each month (x the mechanism's responsiveness, at most 1), as "
        "providers account for what members reported at the scorecard's interface meetings. Calibrated so that "
        "members' mean trust under a scorecard ends 24 months ~0.16 above that under symbolic engagement, "
        "Gullo 2017's difference-in-differences in satisfaction with services (B = 0.16, P < .001; "
        "tests/test_pathways.py). Range 0.005-0.05.",
    )
    referral_boost_per_month: float = Field(
        0.15, ge=0.0, le=1.0, description="Added adoption propensity while a referral is open."
    )
    referral_valid_months: int = Field(3, ge=1, le=24, description="Months a referral stays open.")


class Groups(Strict):
    """Women's groups / community-based organisations."""

    per_village: int = Field(1, ge=0, le=20, description="Groups in each village (where the village has them).")
    village_share: Share = Field(
        1.0,
        description="Share of villages whose groups exist at month 0; the others' can be co-created (co_creation).",
    )
    leave_per_month: Rate = Field(
        0.02,
        description="Monthly chance a member leaves her group; women who are not members join at the rate that "
        "keeps p_member in a district of the average woman. In Uttar Pradesh the poorest joined self-help groups "
        "more readily but stayed less (Ahmad 2020, PLoS One 15:e0237519); reasoned 0.02, four years' membership on "
        "average (range 0.01-0.05).",
    )
    rel_join_poorest: Share = Field(
        0.5,
        description="Elite capture: the poorest quintile's chance to join, relative to the richest's (linear in "
        "between), unless a programme targets inclusion. Where facilitators sought out poorer women, the PLA "
        "trials saw little difference in attendance by wealth (Houweling 2016, JECH 70:31); without them, "
        "reasoned 0.5 (range 0.3-1).",
    )
    join_distance_km: float = Field(
        1.0,
        gt=0.0,
        le=50.0,
        description="A woman's chance to join falls by a factor e for each this many km from her village's centre, "
        "where groups meet. Reasoned 1 (range 0.5-5).",
    )
    p_member: Share = Field(
        0.30,
        description="Share of a village's index women who belong to a group: >1/3 joined at 1 group per 309 "
        "people (Fottrell 2013); 8% in Nepal (Manandhar 2004).",
    )
    meeting_threshold: Share = Field(0.2, description="A group below this capacity stops meeting.")
    capacity_decay_per_month: Rate = Field(0.08, description="Capacity lost each month without support.")
    self_sustain_per_month: Rate = Field(
        0.12,
        description="Mean rate at which a meeting group builds its own capacity, as growth r c(1-c). A group "
        "settles at c* = 1 - d/((1-d) r) when it meets (d: decay); groups start at their c* (or inactive below "
        "the threshold).",
    )
    self_sustain_spread: Share = Field(
        0.5,
        description="Groups' own rates are uniform in mean x (1 +/- spread): some sustain, some do not.",
    )
    training_gain_per_month: Rate = Field(0.10, description="Capacity gain per month of capacity building.")
    mentoring_gain_per_month: Rate = Field(
        0.04,
        description="Capacity gain per month from a linked, active CHW's follow-up (HRH2030 monthly follow-ups).",
    )
    fp_modules: int = Field(6, ge=1, le=50, description="FP/RH modules in the training curriculum.")
    initial_system_trust: float = Field(
        0.5,
        ge=0.05,
        le=1.0,
        description="Trust between the health system and a group at month 0; a linked group's referral rate is x "
        "its trust / this, so links strengthen as trust grows and weaken as it erodes (seed 004: trust, clear "
        "communication and shared goals between systems and community organisations). Reasoned.",
    )
    system_trust_gain_per_month: Rate = Field(
        0.05,
        description="Trust moves this far toward 1 in a month of joint work with a linked group (its CHW follows it "
        "up, or a coordination meeting is held). Reasoned (range 0.02-0.1).",
    )
    system_trust_loss_per_month: Rate = Field(
        0.03,
        description="... and a linked group loses this share of its trust in a month without contact (its CHW "
        "gone, no coordination: a communication gap). Reasoned (range 0.01-0.08).",
    )
    network_awareness_per_month: Rate = Field(
        0.01,
        description="Awareness that non-health community networks (savings and livelihood groups, youth clubs) "
        "engaged by community_networks carry each month to the village's women outside a meeting women's group "
        "(Swasti, seed 000: an inter-web of local support systems). Reasoned (range 0-0.03).",
    )
    husband_sensitisation_per_month: Rate = Field(
        0.06,
        description="Monthly chance that a member's partner is reached while a group of her village meets and "
        "sensitises men (male_engagement): he stops opposing FP, if he did, and talks FP with her "
        "(households.rel_adopt_partner_engaged). Peer motivators reached every man with five visits in six months "
        "(Shattuck 2011, Am J Public Health 101:1089); group sessions for husbands reach fewer: reasoned 0.06, about "
        "half of members' partners within a year (range 0.02-0.15).",
    )
    rel_sensitisation_non_member: Share = Field(
        0.5,
        description="... and the partner of a woman of the village who is not in a meeting group comes round at this "
        "share of it: the groups sensitise their communities, men and husbands included (HRH2030, seed 002), as "
        "Niger's 'model husbands' talk to other men (UNFPA écoles des maris). Reasoned 0.5 (range 0.2-1).",
    )
    rel_activity_leader_supportive: float = Field(
        1.3,
        ge=1.0,
        le=3.0,
        description="In a village whose leaders back FP, women's adoption propensity, groups' meeting gain and "
        "referral rate and a CHW visit's awareness gain are x this: women who heard religious leaders speak for FP "
        "had an odds ratio of 1.70 (1.54-1.87) for modern use in urban Nigeria (Adedini 2018, GHSP 6:500). Reasoned "
        "1.3 (range 1-2). The adoption rates are the district's average village's, so a neutral village's are 1 / "
        "the mean of these factors over villages at month 0.",
    )
    rel_activity_leader_hostile: Share = Field(
        0.6,
        description="... and x this where the leaders oppose FP: no effect size of leaders' opposition retrieved; "
        "reasoned 0.6, about the inverse of Adedini's 1.70 (range 0.3-1).",
    )
    knowledge_fade_per_month: Rate = Field(
        0.06,
        description="Share of its FP content a group that does not meet (and is not being trained) loses a month, "
        "and share of what its members learned above the district's starting awareness they lose: meetings renew "
        "knowledge, so a group that keeps meeting keeps it. Volunteers who used their training in monthly family "
        "meetings kept it 18 months (Afar, Ethiopia: CMNH retention study); community health promoters trained "
        "once scored 30% years later, 62% after 12 weeks of reminders (Njoroge 2025, EJHS 11(1)). No monthly rate "
        "is published: reasoned 0.06, a half-life of about a year (range 0.03-0.12).",
    )
    awareness_gain_per_meeting: Rate = Field(
        0.12,
        description="Members' awareness moves this far toward 1 at a meeting of full capacity and FP content.",
    )
    cost_relief: Share = Field(
        0.5,
        description="Share of what poverty costs a member in reaching a facility (households.rel_access_poorest) "
        "that a group at full capacity which has covered FP lifts with its own strategies: a fund for transport "
        "and fees, company to the clinic (the PLA groups' emergency funds and stretcher schemes, Manandhar 2004, "
        "Lancet 364:970). It scales with capacity and FP content, so a weak or untrained group lifts none. With it "
        "the poorest members gain as much as the richest where groups seek them out (Houweling 2019, IJE 48:168: no "
        "elite capture): reasoned 0.5 (range 0-1).",
    )
    rel_peer_trained: float = Field(
        2.5,
        ge=1.0,
        le=10.0,
        description="Peer exposure counts this much more in a group that has covered FP, where members talk about "
        "their methods: calibrated so that trained groups reaching 30% of women add over a point of mCPR "
        "(stylised fact 2): 2.5. Close ties weigh this much in rural Mali: a co-wife's use triples the odds of "
        "use (Whidden 2021, Reprod Health 18:36).",
    )
    p_refer_per_month: Rate = Field(
        0.15,
        description="Monthly chance a linked group refers a member with unmet need (x capacity x strength).",
    )
    advocacy_threshold: Share = Field(0.5, description="Groups at or above this capacity advocate for services.")
    rel_lead_poorest: Share = Field(
        0.25,
        description="Who leads: a member's chance to become her group's leader follows her wealth (the poorest "
        "quintile's this share of the richest's, linear in between) and how near she lives to where it meets, "
        "unless a programme targets inclusion, when every member's wealth weighs alike. Leaders and members of "
        "community groups are disproportionately the better-off and better-connected (Mansuri & Rao 2013, "
        "Localizing Development, World Bank, ch. 5); no ratio found: reasoned 0.25 (range 0.1-1).",
    )
    p_advocacy_captured: Share = Field(
        0.4,
        description="Chance that a group led by a woman of the richest quintile has its agenda captured by local "
        "elites, politics or vested interests, so that its advocacy presses for no FP service; a leader of "
        "quintile w (0 poorest - 4) carries w/4 of it, so a group the poorest lead is never captured (seed 003: "
        "political considerations, power dynamics and vested interests; committees that lacked legitimacy in a "
        "review of 15 studies of health committees in sub-Saharan Africa, PMC8858504). No share found: reasoned "
        "0.4, which with who leads captures about a fifth of groups (range 0-0.8).",
    )
    training_coverage: Share = Field(
        0.0,
        description="Share of groups reached by capacity building; a capacity_building intervention uses it unless "
        "it sets its own coverage. Dose-response: ~3% of women in groups no effect, >=30% strong (Prost 2013).",
    )


class Chws(Strict):
    """Community health workers."""

    households_per_chw: int = Field(150, ge=1, le=100_000, description="Households a CHW serves (LHW ~1/1000 pop).")
    coverage: Share = Field(0.5, description="Share of villages with a CHW at month 0 (remote villages first).")
    visits_per_month: Visits = Field(
        30.0,
        description="Household visits a CHW is asked to make a month (her programme's norm); she makes fewer when "
        "her hours run out (hours_per_month).",
    )
    hours_per_month: float = Field(
        36.0,
        ge=1.0,
        le=300.0,
        description="Hours a CHW works a month. Reasoned 36: her norm of visits (30 of 54 minutes, 27 h) with a "
        "fifth of her time on other duties (other_hours_per_month), as observed in Tanzania (Tani 2016, BMC Health "
        "Serv Res 16:461: documentation 7.8%, supervision 2.5%) and Ethiopia (Tilahun 2017, Health Policy Plan "
        "32:320: meetings and trainings 9.3%); range 19-130: volunteers' median 19.3 (Uganda, Kasteng 2016, Health "
        "Policy Plan), 40-60 in part-time programmes (BMC Prim Care 2024 review, doi:10.1186/s12875-024-"
        "02319-2), ~130 for Ethiopia's salaried HEWs (15.5 duty days of ~6 h in 21; Tilahun 2017).",
    )
    other_hours_per_month: float = Field(
        8.0,
        ge=0.0,
        le=300.0,
        description="Her hours a month on duties other than visits and groups (registers and reports, supervision, "
        "the restocking trip, meetings at her facility): about a fifth of her time (Tanzania 10%, Ethiopia 9% in "
        "meetings alone; Tani 2016, Tilahun 2017). Reasoned; range 4-16.",
    )
    travel_minutes_per_visit: float = Field(
        20.0,
        ge=0.0,
        le=240.0,
        description="Her minutes walking to a household, beside her minutes there (costs.chw_visit_minutes): in "
        "Tanzania CHWs spent 27.8% of their day travelling between homes against 45.4% on education and care in "
        "them (Tani 2016), 0.61 of 34 minutes (Aron 2023) is ~20. Range 10-60 (remote, scattered villages).",
    )
    group_session_hours: float = Field(
        3.0,
        ge=0.0,
        le=24.0,
        description="Her hours for each FP module she teaches a group she trains (capacity building delivered_by "
        "'chw'): a meeting of about two hours with its preparation and the walk. Reasoned; range 2-5.",
    )
    coordination_hours: float = Field(
        1.0,
        ge=0.0,
        le=24.0,
        description="Her hours a month for each of her groups in a coordination (its meeting, the joint plan). "
        "Reasoned; range 0.5-3.",
    )
    mentoring_hours: float = Field(
        2.0,
        ge=0.0,
        le=24.0,
        description="Her hours a month following up each group linked to her (HRH2030's monthly follow-ups): "
        "attending its meeting. Reasoned; range 1-3.",
    )
    rel_visits_reported: float = Field(
        1.14,
        ge=0.0,
        le=10.0,
        description="How much more often a CHW visits the members her groups reported in need, where a community "
        "scorecard makes her answer the reports (x the mechanism's responsiveness, at most 1; the visits come out "
        "of her other households'): CARE's score card raised home visits by health workers 114% among "
        "participants in Malawi (Gullo 2017, PLoS One 12:e0171316, LATE B = 1.14; difference-in-differences +20 "
        "points in home visits during pregnancy). Range 0.5-2.",
    )
    p_fp_trained: Share = Field(0.3, description="Share of CHWs trained in FP at month 0.")
    provides_methods: bool = Field(
        True, description="CHWs give pills/injectables at home (community-based distribution)."
    )
    p_method_access: Share = Field(0.6, description="Access to a method from an FP-trained CHW during a visit.")
    p_refer: Share = Field(0.3, description="An FP-trained CHW refers a visited non-user with need to a facility.")
    awareness_gain_visit: Rate = Field(
        0.08,
        description="Awareness moves this far toward 1 at a visit (twice that from an FP-trained CHW).",
    )
    p_supervised: Share = Field(0.3, description="Share of CHWs supervised with refresher training at month 0.")
    attrition_per_month: Rate = Field(
        0.006,
        description="Monthly leaving hazard when supervised and refreshed (5-30%/year suggested; Ngugi 2018).",
    )
    rel_attrition_no_refresher: float = Field(
        2.0,
        ge=1.0,
        le=10.0,
        description="Hazard multiplier without refresher training (Ngugi 2018: OR 4.0).",
    )
    rel_attrition_unsupervised: float = Field(
        1.5,
        ge=1.0,
        le=10.0,
        description="Hazard multiplier without supervisor feedback (Ngugi 2018: OR 2.0).",
    )
    rel_attrition_per_overload: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Her leaving hazard is x (1 + this x (workload - 1)) after a month whose tasks asked more hours "
        "than she had (workload: hours asked / hours): 1 doubles it at twice her hours, the size of Ngugi 2018's "
        "OR 2.0 for no supervisor feedback. Heavy workload is the burden CHWs name most (42 of 43 studies; Astale "
        "2023, PLoS One 18:e0282717) but no study retrieved gives its odds ratio: reasoned, range 0-3.",
    )
    p_replace_per_month: Rate = Field(0.1, description="Monthly chance a vacant CHW post is filled (untrained).")
    kit_months: int = Field(
        1,
        ge=1,
        le=12,
        description="Months of a method her kit holds after she restocks at her facility, which she does each "
        "month the facility has it: 1 month means a stockout at the facility reaches her clients the next month "
        "(Mali's ASC restock monthly at their CSCom: reasoned, range 1-3).",
    )
    quality: Share = Field(0.7, description="Service quality of a CHW as a method source.")


class Facilities(Strict):
    """Health facilities."""

    capacity_per_month: int = Field(250, ge=0, le=1_000_000, description="FP clients a health post serves per month.")
    referral_capacity_per_month: int = Field(600, ge=0, le=1_000_000, description="FP clients of a level-2 facility.")
    quality: Share = Field(0.6, description="Mean service quality at month 0.")
    quality_spread: Share = Field(0.1, description="Quality at month 0 is uniform in mean +/- spread.")
    stock_reliability: Share = Field(
        0.85,
        description="Monthly chance that a method is not out of stock (x each method's rel_stockout on the chance "
        "of a stockout; no published numbers retrieved; FP2020 indicator 10).",
    )
    quality_max: Share = Field(0.95, description="Ceiling that advocacy and feedback push quality toward.")
    stock_max: Share = Field(0.98, description="Ceiling that advocacy, feedback and supply push reliability toward.")
    p_advocacy_heard: Share = Field(
        0.5,
        description="Monthly chance that the district and facility managers act on the groups' advocacy for a "
        "facility; in other months it changes nothing (bottom-up pressure was weak at scale in Uganda: Raffler, "
        "Posner and Parkerson 2018). Reasoned 0.5 (range 0.2-0.9).",
    )
    responsiveness_scorecard: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="How strongly a facility acts on its groups' reports under a community scorecard (providers "
        "and community score services and agree an action plan): CARE's score card raised modern use by 57% and "
        "CHW home visits by 114% among participants in Malawi (Gullo 2017, PLoS One 12:e0171316), and report "
        "cards with facilitated meetings raised utilisation in Uganda (Bjorkman and Svensson 2009, QJE 124:735). "
        "The reference mechanism: 1.",
    )
    responsiveness_health_committee: float = Field(
        0.3,
        ge=0.0,
        le=10.0,
        description="... under a health committee alone: at scale in Uganda, citizen monitoring through committees "
        "changed treatment quality a little and utilisation not at all (Raffler 2018), and committees were often "
        "left out of planning and budgets (PMC8858504). Reasoned 0.3 of the scorecard's (range 0-0.6).",
    )
    advocacy_gain_per_month: Rate = Field(
        0.125,
        description="Pull toward the ceilings per unit of advocacy pressure in a month it is heard (the seeds' "
        "enabling environment): 0.125 keeps the mean pull of the earlier default, 0.05 from every strong group "
        "every month, now that half the months go unheard (p_advocacy_heard) and a fifth of groups are captured "
        "(groups.p_advocacy_captured). Reasoned (range 0.02-0.3).",
    )
    feedback_gain_per_month: Rate = Field(
        0.10,
        description="Pull toward the ceilings per unit of feedback through linked groups (Healthwatch).",
    )
    reversion_per_month: Rate = Field(0.03, description="Drift back to the funded level without pressure.")
    supply_ramp_per_month: Rate = Field(
        0.25, description="How fast supported facilities' reliability moves to the supply target."
    )


class Costs(Strict):
    """Unit costs of the inputs, US$ (2015-2024 prices as found, not inflated). A month's cost is counted by
    category (`model.costs`): commodities with their supply chain, provider time, the CHW programme, supervision
    and transport, the group programme and supply support. Commodity prices and provider minutes are each
    method's (`methods`). Where no figure was found the description says so, and the bounds are the range to try."""

    chw_month_usd: Usd = Field(
        15.0,
        description="Stipend of an active CHW per month. Mali: from 2024 a salaried CSCom CHW earns 75,000 FCFA "
        "(US$122, category D) to 105,000 FCFA (US$170, category B) a month (Muso 2024, the CSCom collective "
        "agreement), while village relays are unpaid. Reasoned 15 for a part-time CHW of 150 households (range "
        "0-125).",
    )
    chw_training_usd: Usd = Field(
        324.0,
        description="Training one CHW in FP, once: Zambia, US$12,964 for 40 CHWs trained to give DMPA (US$324 each; "
        "US$569 with the training of trainers and the practicum), Chin-Quee 2013 (GHSP 1(3), Table 2).",
    )
    chw_replacement_usd: Usd = Field(59.0, description="Recruiting a replacement CHW (Alam 2012).")
    supervision_month_usd: Usd = Field(
        5.0,
        description="A supervisor's time and refresher training per supervised CHW-month, its travel counted apart "
        "(transport_km_usd): Zambia US$6.95 per CHW-month with travel (Chin-Quee 2013: US$3,334 a year for 40 "
        "CHWs). Reasoned 5 without travel (range 3-10).",
    )
    group_training_month_usd: Usd = Field(
        20.0,
        description="Capacity building delivered by a CHW, per group-month trained (materials and the CHW's "
        "allowance; her minutes are provider time): PLA ~$203 per live birth (Pulkki-Brannstrom 2016), about "
        "$20 per group-month. Reasoned 20 (range 5-40).",
    )
    facilitator_month_usd: Usd = Field(
        260.0,
        description="A facilitator of an NGO's capacity building per month, her pay, travel, supervision and "
        "materials, whether or not her caseload is full: the PLA trials' ~$20 per group-month (Pulkki-Brannstrom "
        "2016) at Ekjut's 13 groups per facilitator (Tripathy 2010). Reasoned 260 (range 100-400).",
    )
    mentoring_month_usd: float = Field(
        3.0,
        ge=0.0,
        le=15.0,
        description="CHW follow-up of a linked group per month. No figure found: reasoned 3 (range 0-15, the bounds).",
    )
    linkage_month_usd: float = Field(
        4.0,
        ge=0.0,
        le=20.0,
        description="Keeping a group's formal link per month. No figure found: reasoned 4 (range 0-20, the bounds).",
    )
    advocacy_month_usd: float = Field(
        2.0,
        ge=0.0,
        le=10.0,
        description="Advocacy support per group-month. No figure found: reasoned 2 (range 0-10, the bounds).",
    )
    shared_record_month_usd: float = Field(
        1.0,
        ge=0.0,
        le=5.0,
        description="Keeping a group's shared referral record per month (forms, registers, the CHW's time to "
        "update it). No figure found: reasoned 1 (range 0-5, the bounds).",
    )
    coordination_month_usd: float = Field(
        2.0,
        ge=0.0,
        le=50.0,
        description="Coordination per coordinated group-month (the meeting's share of a district officer's and an "
        "organisation's time, transport). No figure found: reasoned 2 (range 0-10).",
    )
    coordination_saving: Share = Field(
        0.3,
        description="Share of coordinated groups' linkage and mentoring costs that shared resources (joint "
        "outreach days, transport, training) save. No figure found: reasoned 0.3 (range 0-0.5).",
    )
    network_month_usd: float = Field(
        2.0,
        ge=0.0,
        le=50.0,
        description="Engaging a village's non-health networks per month (briefing their leaders, materials). No "
        "figure found: reasoned 2 (range 0-10).",
    )
    co_creation_usd: Usd = Field(
        100.0,
        description="Co-creating one women's group, once (meetings to found it, a register, its first leaders' "
        "orientation). No figure found: reasoned 100 (range 30-300).",
    )
    monitoring_month_usd: float = Field(
        2.0,
        ge=0.0,
        le=50.0,
        description="A group's monthly report to the district and its share of the planning round (forms, a "
        "facilitator's or CHW's time). No figure found: reasoned 2 (range 0-10).",
    )
    male_engagement_month_usd: float = Field(
        3.0,
        ge=0.0,
        le=50.0,
        description="A group's sessions for members' husbands per month (a facilitator's or CHW's time, a meeting "
        "place). No figure found: reasoned 3 (range 0-10).",
    )
    leader_engagement_usd: Usd = Field(
        40.0,
        description="Engaging one village's leaders, once (a district team's visit and dialogue). No figure "
        "found: reasoned 40 (range 10-150).",
    )
    feedback_month_usd: float = Field(
        2.0,
        ge=0.0,
        le=10.0,
        description="Feedback mechanism per group-month. No figure found: reasoned 2 (range 0-10, the bounds).",
    )
    supply_facility_month_usd: float = Field(
        150.0,
        ge=0.0,
        le=600.0,
        description="Supply-chain support per facility-month (stock management, reporting, top-ups). No figure "
        "found: reasoned 150 (range 0-600, the bounds).",
    )
    logistics_share: float = Field(
        0.20,
        ge=0.0,
        le=1.0,
        description="In-country supply-chain costs (storage, transport, handling) as a share of the commodities' "
        "price: getting public health commodities to clients adds 12-25% (Sarley, Allain & Akkihal 2009, via "
        "USAID | DELIVER 2012); 19-34% for antimalarials and tests in Benin and Kenya (Shretta 2015). 0.20.",
    )
    facility_minute_usd: float = Field(
        0.02,
        ge=0.0,
        le=10.0,
        description="A facility provider's (nurse's or midwife's) cost per minute, applied to each method's "
        "provider minutes: a CSCom health technician earns 105,000 FCFA (US$170) a month (Muso 2024, the CSCom "
        "collective agreement), US$0.016 a minute over 176 hours; a doctor 227,000 FCFA net (Journal du Mali 2019), "
        "US$0.035. 0.02 with the employer's charges (reasoned; range 0.015-0.05).",
    )
    chw_minute_usd: float = Field(
        0.0065,
        ge=0.0,
        le=10.0,
        description="The value of a CHW's minute (an economic cost, beside the stipend the programme pays; 0 counts "
        "the programme's spending only): Mali's minimum wage, 40,000 FCFA (US$68) a month from 2016 (SMIG, Journal "
        "du Mali), over 173 hours; a salaried CHW's 75,000 FCFA (Muso 2024) gives 0.012.",
    )
    chw_visit_minutes: float = Field(
        34.0,
        ge=0.0,
        le=120.0,
        description="A CHW's minutes at a household visit, before any method she gives (whose minutes are the "
        "method's): median 34 for a monthly household visit in Neno, Malawi (60 by the programme's design; Aron "
        "2023, a time-motion study of 660 visits).",
    )
    transport_km_usd: float = Field(
        0.07,
        ge=0.0,
        le=0.30,
        description="Travel per km by motorcycle, for a supervisor's monthly visit to each supervised CHW and a "
        "CHW's restocking trips to her facility (there and back, the post's km to its nearest facility): fuel at "
        "US$1.17 a litre in Bamako (2007, World Bank, Africa's Transport Infrastructure) at ~3 litres per 100 km "
        "is US$0.035 a km; with upkeep and wear about twice that. No Malian figure found: reasoned 0.07 (range "
        "0.03-0.30, hired transport at the top).",
    )
    chw_restock_trips_per_month: float = Field(
        1.0,
        ge=0.0,
        le=4.0,
        description="Trips an FP-trained CHW makes to her facility each month to restock her methods. No figure "
        "found: reasoned 1, with the monthly report (range 0.25-4).",
    )


class Intervention(Strict):
    """Fields every intervention has: when it runs, who pays, whom it reaches."""

    start_month: Month = Field(0, description="First month it takes effect (0 = from the start).")
    end_month: Month | None = Field(None, description="Month it stops (None = runs to the end).")
    funded_by: Literal["donor", "government"] = Field(
        "donor", description="Donor-funded interventions stop when a donor_exit takes effect."
    )
    coverage: Share | None = Field(None, description="Share of targets reached (None = the section's default).")
    remote_first: bool = Field(False, description="Reach the targets farthest from a facility first.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> "Intervention":
        if self.end_month is not None and self.end_month <= self.start_month:
            raise ValueError(f"end_month ({self.end_month}) must be after start_month ({self.start_month})")
        return self


class CapacityBuilding(Intervention):
    """Organisational, leadership and FP-module training of women's groups."""

    type: Literal["capacity_building"] = "capacity_building"
    modules_per_month: float = Field(1.0, gt=0.0, le=50.0, description="FP modules covered per month.")
    organisational_strengthening_per_month: Rate = Field(
        0.0,
        description="Added self-sustaining growth of a reached group's capacity (Swasti: organisational and "
        "leadership strengthening).",
    )
    delivered_by: Literal["ngo", "chw"] = Field(
        "ngo",
        description="Who convenes the groups: 'ngo', paid facilitators (Swasti; the PLA trials) with a caseload "
        "and a monthly cost; 'chw', the groups' own CHW, only while she is active and FP-trained (HRH2030), so "
        "only groups of villages with a CHW post can be reached.",
    )
    groups_per_facilitator: int = Field(
        13,
        ge=1,
        le=40,
        description="Groups a facilitator convenes a month (delivered_by 'ngo'): 13 in Ekjut, India (Tripathy "
        "2010, Lancet 375:1182), 9 in Makwanpur, Nepal (Manandhar 2004, Lancet 364:970); range 9-13.",
    )
    inclusive: bool = Field(
        False,
        description="While it runs, its facilitators or CHWs seek out the poorest women, so that they join its groups "
        "as readily as the richest (the PLA trials; Houweling 2016).",
    )
    facilitators: int | None = Field(
        None,
        ge=0,
        le=100_000,
        description="Facilitators the programme hires (delivered_by 'ngo'). None: enough for every targeted group "
        "at groups_per_facilitator. With fewer, the targeted groups take the facilitators' sessions in turn, so "
        "each is convened less often.",
    )


class Linkage(Intervention):
    """Formal links from groups to their CHW and to the facility."""

    type: Literal["linkage"] = "linkage"
    to_chw: bool = True
    to_facility: bool = True
    strength: float = Field(1.0, ge=0.0, le=5.0, description="Multiplies a linked group's referral rate.")


class Advocacy(Intervention):
    """Groups advocate for better services (the enabling environment)."""

    type: Literal["advocacy"] = "advocacy"
    strength: float = Field(1.0, ge=0.0, le=10.0, description="Added advocacy weight of a reached strong group.")


class ChwScaleUp(Intervention):
    """Deploy CHWs to more villages, train them in FP, supervise them."""

    type: Literal["chw_scale_up"] = "chw_scale_up"
    train_fp: bool = True
    supervise: bool = Field(True, description="Supervision with refresher training for all active CHWs.")
    visits_per_month: Visits | None = Field(None, description="New visit rate (None: unchanged).")
    hours_per_month: float | None = Field(
        None,
        ge=1.0,
        le=300.0,
        description="New hours a month for every active CHW (None: unchanged); her stipend follows her hours.",
    )


class SupplyImprovement(Intervention):
    """Supply-chain support to facilities."""

    type: Literal["supply_improvement"] = "supply_improvement"
    stock_reliability: Share = Field(0.97, description="Reliability the supported facilities reach.")
    methods: list[MethodName] | None = Field(
        None, description='The methods whose supply it supports (None: all), e.g. ["implant"].'
    )
    rel_capacity: float = Field(1.0, ge=0.0, le=20.0, description="Multiplies supported facilities' capacity.")


class DonorExit(Intervention):
    """The donor leaves at start_month: donor-funded interventions end, CHW stipends and supervision stop."""

    type: Literal["donor_exit"] = "donor_exit"
    rel_chw_visits: float = Field(0.5, ge=0.0, le=1.0, description="CHW visits after stipends stop, relative.")
    end_supervision: bool = True
    end_stipends: bool = Field(True, description="CHW stipends stop (and are no longer costed) from start_month.")


class SharedRecord(Intervention):
    """Groups, their CHW and their facility keep one referral record (Healthwatch: people do not like telling
    their stories several times): a referred woman arrives known, and no referral is lost on its way."""

    type: Literal["shared_record"] = "shared_record"


class MaleEngagement(Intervention):
    """Groups sensitise their communities' men and husbands (HRH2030; Niger's écoles des maris): while it runs
    and a group meets, each opposing partner of a woman of its village comes round at
    groups.husband_sensitisation_per_month (a member's) or rel_sensitisation_non_member of it (the others')."""

    type: Literal["male_engagement"] = "male_engagement"


class LeaderEngagement(Intervention):
    """Village leaders are engaged at start_month (HRH2030's leaders' buy-in): in each targeted village a neutral
    leader comes to back FP, and a hostile one to tolerate it, with chance p_buy_in. What leaders come to, they
    keep after the intervention ends."""

    type: Literal["leader_engagement"] = "leader_engagement"
    p_buy_in: Share = Field(
        0.6,
        description="Chance an engaged leader moves one step (hostile to neutral, neutral to supportive). No figure "
        "retrieved: reasoned 0.6 (range 0.3-0.9).",
    )


class Coordination(Intervention):
    """The health system and the groups' organisations coordinate (seed 004; Healthwatch's partnership, seed
    001): a coordination meeting each month is joint work that builds their trust, and they share resources
    (joint outreach days, transport, training), so the groups' links and follow-ups cost
    costs.coordination_saving less; coordination itself costs costs.coordination_month_usd a group-month and
    each coordinated group's CHW chws.coordination_hours."""

    type: Literal["coordination"] = "coordination"


class CommunityNetworks(Intervention):
    """Non-health community networks (savings and livelihood groups, youth clubs) carry FP messages in the
    villages reached: women outside a meeting women's group gain groups.network_awareness_per_month."""

    type: Literal["community_networks"] = "community_networks"


class CoCreation(Intervention):
    """Where a village has no women's group, co-create one with local people (Swasti, seed 000): from start_month
    the targeted villages' groups exist, start meeting at start_capacity and recruit members. Coverage is a share
    of all villages, reached among those without a group (1: every one of them)."""

    type: Literal["co_creation"] = "co_creation"
    start_capacity: Share = Field(
        0.3, description="The new group's capacity (above groups.meeting_threshold, it meets). Reasoned."
    )
    inclusive: bool = Field(False, description="Its founders seek out the poorest women (CapacityBuilding.inclusive).")


class CommunityMonitoring(Intervention):
    """Groups monitor and plan (Swasti, seed 000): the groups reached report their members' unmet need and bad
    service experiences to the district each month, and every `plan_every_months` the district moves CHW hours
    to the posts of the reporting villages, in proportion to the unmet need they report, and supply support to
    the facilities whose reporting groups told of the most bad experiences, worst first."""

    type: Literal["community_monitoring"] = "community_monitoring"
    extra_chw_hours_per_month: float = Field(
        200.0,
        ge=0.0,
        le=1_000_000.0,
        description="CHW hours a month the district pays for and moves to the reporting villages' posts (paid at "
        "the stipend's hourly rate).",
    )
    plan_every_months: int = Field(3, ge=1, le=24, description="Months between the district's planning rounds.")
    facilities_supported: Share = Field(
        0.25,
        description="Share of facilities the district gives supply support to at each round, worst reported first.",
    )
    stock_reliability: Share = Field(0.97, description="Reliability the supported facilities reach.")


class Feedback(Intervention):
    """Groups gather members' bad experiences of services (failed visits, a stockout of their method, poor
    quality) and report them to their facility (Healthwatch); whether the facility acts on them depends on the
    accountability mechanism. Without one the reports are logged and nothing changes: engagement is symbolic
    (seed 003)."""

    type: Literal["feedback"] = "feedback"
    accountability: Literal["none", "health_committee", "scorecard"] = Field(
        "scorecard",
        description="What makes the facility act on reports: 'scorecard' (facilities.responsiveness_scorecard), "
        "'health_committee' (responsiveness_health_committee), or 'none' (symbolic engagement).",
    )
    responsiveness: float = Field(
        1.0, ge=0.0, le=10.0, description="How strongly facilities act on reports, relative to the mechanism's."
    )


INTERVENTION_TYPES: dict[str, type[Intervention]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        CapacityBuilding,
        Linkage,
        Advocacy,
        ChwScaleUp,
        SupplyImprovement,
        DonorExit,
        Feedback,
        SharedRecord,
        MaleEngagement,
        LeaderEngagement,
        CommunityMonitoring,
        CoCreation,
        Coordination,
        CommunityNetworks,
    )
}

AnyIntervention = Annotated[
    CapacityBuilding
    | Linkage
    | Advocacy
    | ChwScaleUp
    | SupplyImprovement
    | DonorExit
    | Feedback
    | SharedRecord
    | MaleEngagement
    | LeaderEngagement
    | CommunityMonitoring
    | CoCreation
    | Coordination
    | CommunityNetworks,
    Field(discriminator="type"),
]


class FittedParameter(Strict):
    """One calibrated scenario key: the fitted value and the bounds it was searched in."""

    key: str = Field(min_length=1, description="Dotted scenario key.")
    value: float | int
    low: float
    high: float


class FittedTarget(Strict):
    """One calibration target and the model's value at the best trial (mean over replicates)."""

    measure: str = Field(min_length=1, description="A measure of commsim.evidence.measures.MEASURES.")
    target: float
    model: float
    weight: float = Field(ge=0.0)
    scale: float = Field(gt=0.0)


class Calibration(Strict):
    """What a calibrated scenario was fitted to (written by `commsim calibrate`; provenance, not parameters)."""

    targets: str = Field(min_length=1, description="The targets file (as given) or its name.")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Day of the calibration, YYYY-MM-DD.")
    parameters: list[FittedParameter] = Field(min_length=1, description="The fitted keys and their values.")
    fit: list[FittedTarget] = Field(default_factory=list, description="Target vs model at the best trial.")
    loss: float = Field(ge=0.0, description="Weighted loss at the best trial: sum w ((model - target) / scale)^2.")
    study: str = Field(min_length=1, description="Optuna study name in the results database.")
    trials: int = Field(ge=1, description="Finished trials of the study when the file was written.")
    seed: int = Field(ge=0, description="Replicate r of every trial ran on seed + r.")
    replicates: int = Field(ge=1)
    months: int = Field(ge=1, le=1200, description="Months of each calibration run (measures at the last).")


class Impacts(Strict):
    """Ratios that turn the pregnancies and births a plan averts into the FP2030 core indicators 6-8 (unintended
    pregnancies, unsafe abortions and maternal deaths averted) as Track20 computes them ("Estimating impacts of
    contraceptive use"). Only comparisons read them; the simulation does not. Where no Malian or Western African
    figure was found the description says so, and the range is the one to try."""

    pregnancies_per_year_without_method: Share = Field(
        0.31,
        description="Pregnancies per woman-year among the same women using no method, for Track20's formula "
        "(users x this - pregnancies on a method): 31% in Track20's method (FP2020/FP2030 core indicator 6); every "
        "pregnancy on a method counts as unintended.",
    )
    abortion_share_unintended: Share | None = Field(
        None,
        description="Share of unintended pregnancies ended by induced abortion. None: the model's own "
        "women.abortion_share_unintended, so unsafe abortions and births averted agree with the pregnancies the "
        "model ends. No Malian or Western African figure found: about 50% worldwide (Track20), 61% in 2015-19 "
        "(Bearak 2020), 48% where abortion is prohibited or allowed only to save the woman's life (Bearak 2018, "
        "2010-14); 12% of all pregnancies in Western Africa end in abortion (Guttmacher, Abortion in Africa 2018). "
        "Range 0.1-0.5.",
    )
    unsafe_share_abortions: Share = Field(
        0.85,
        description="Share of induced abortions that are unsafe: at least 85% in Western and Middle Africa "
        "(Guttmacher 2019, safe abortion in the African Union), about three quarters in Africa as a whole "
        "(Guttmacher, Abortion in Africa 2018). Range 0.75-0.95.",
    )
    loss_share_pregnancies: Share = Field(
        0.12,
        description="Share of pregnancies not ended by abortion that end in miscarriage or stillbirth, for the "
        "births Track20's unintended pregnancies averted would have been: 10-17% at ages 20-39 (Magnus 2019, the "
        "model's women.pregnancy_loss_by_age); 12% of unintended pregnancies worldwide (Bearak 2018). Range "
        "0.10-0.17.",
    )
    maternal_deaths_per_100k_births: float = Field(
        562.0,
        ge=0.0,
        le=5000.0,
        description="Maternal mortality ratio, deaths per 100,000 live births, applied to births averted: Mali 562 "
        "in 2017 (UN MMEIG, Trends in maternal mortality 2000-2017); Mali DHS 2018: 325 for 2011-18. Range 325-800. "
        "It counts deaths from abortion too, so adding those of unsafe abortions averted overstates maternal deaths "
        "averted by at most their share (at least 9% of maternal deaths in Africa, Guttmacher 2018).",
    )
    unsafe_abortion_deaths_per_100k: float = Field(
        220.0,
        ge=0.0,
        le=100_000.0,
        description="Deaths per 100,000 unsafe abortions (case fatality), applied to unsafe abortions averted: 218 "
        "worldwide in 2008 (47,000 deaths among 21.6 million unsafe abortions, WHO 2011; Åhman & Shah 2011); 141 per "
        "100,000 of all abortions in Africa in 2010-14 (Guttmacher, Abortion Worldwide 2017), about 190 per unsafe "
        "one. No Western African figure found. Range 140-460.",
    )


DEFAULT_START = "2025-01"


class Scenario(Strict):
    """A complete parameter set plus a dated intervention schedule."""

    name: str = Field("baseline", min_length=1, max_length=80)
    description: str = ""
    months: int = Field(60, ge=1, le=1200, description="Months simulated by default.")
    seed: int = Field(1, ge=0, le=2**63 - 1)
    start: str = Field(
        DEFAULT_START,
        pattern=r"^[12][0-9]{3}-(0[1-9]|1[0-2])$",
        exclude_if=lambda value: value == DEFAULT_START,  # absent at the default: scenarios keep their hashes
        description="Calendar month of month 1, YYYY-MM: the periods of the service statistics.",
    )
    population: Population = Population()
    women: Women = Women()
    methods: Methods = Methods()
    households: Households = Households()
    groups: Groups = Groups()
    chws: Chws = Chws()
    facilities: Facilities = Facilities()
    costs: Costs = Costs()
    interventions: dict[str, AnyIntervention] = Field(
        default_factory=dict, description="Named interventions; the name is part of each key path."
    )
    calibration: Calibration | None = Field(
        None,
        exclude_if=lambda value: value is None,  # absent, not null: uncalibrated scenarios keep their hashes
        description="Set by `commsim calibrate`: the targets this scenario's fitted values come from.",
    )
    impacts: Impacts = Field(
        Impacts(),
        exclude_if=lambda value: value == Impacts(),  # absent at the defaults: scenarios keep their hashes
        description="Ratios for the FP2030 impact indicators of a comparison (not read by the simulation).",
    )

    @property
    def donor_exit(self) -> "DonorExit | None":
        """The scenario's donor exit (it has at most one), or None."""
        return next((iv for iv in self.interventions.values() if isinstance(iv, DonorExit)), None)

    @property
    def donor_exit_month(self) -> int | None:
        """The month the donor leaves, or None."""
        return None if self.donor_exit is None else self.donor_exit.start_month

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        """One-line names; intervention names that dotted keys can address; at most one donor exit (a second
        would cut CHW visits again after the donor has already gone)."""
        check_name("name", self.name)
        for name in self.interventions:
            if not INTERVENTION_NAME.fullmatch(name) or len(name) > 80:
                raise inconsistent(
                    f"interventions.{name}",
                    f"bad name {shown_value(name)}: use up to 80 letters, digits, '-' and '_' "
                    "(no '.' or '__': the name is part "
                    "of dotted keys such as interventions.NAME.coverage)",
                )
        exits = [name for name, iv in self.interventions.items() if isinstance(iv, DonorExit)]
        if len(exits) > 1:
            raise inconsistent(
                f"interventions.{exits[1]}", f"a second donor_exit (after {exits[0]}); a scenario has at most one"
            )
        return self
