"""The demo seed gives the demo counties plausible targets and employed persons, so the cockpit a new user
opens after `make run` shows progress and a forecast, never 未设目标 for a figure the county has."""
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.certificates.models import Certificate
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.roles import Role
from registry.demo_data import generate_demo_data
from registry.demo_targets import CAMPAIGN_END, seed_demo_targets
from registry.people.models import Person
from registry.reference.models import Target
from registry.reference.operations import set_target
from registry.stats import indicators

QIXIAN = indicators.Scope("410221", "杞县")


@pytest.fixture
def demo(app):
    generate_demo_data(300, seed=1)
    db.session.commit()


def test_every_demo_county_with_figures_gets_targets_it_can_be_measured_against(demo):
    assert seed_demo_targets() > 0
    db.session.commit()
    for code in ("410221", "410225", "410212"):
        readings = indicators.readings(indicators.Scope(code, code), CAMPAIGN_END)
        for key in ("skilled_holders_total", "skilled_workers_total", "vocational_training_sessions",
                    "holder_rate_of_employed", "high_skilled_share"):
            reading = readings[key]
            assert reading.has_target and reading.value is not None, (code, key)
        holders = readings["skilled_holders_total"]
        # A tenth above the campaign's end: about 91% done then, never already reached.
        assert 0.85 < holders.progress < 1 and not holders.projection.is_reached
        assert readings["holder_rate_of_employed"].value == 5000  # twice the holders employed: 50.00%
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "target"))
    assert {event.action for event in events} == {"create"}


def test_the_cockpit_of_a_demo_county_shows_progress_and_a_projected_date(demo, client, login, make_user):
    seed_demo_targets()
    db.session.commit()
    # The last day 杞县 issued in the demo's campaign (2021–2025): the 90 days up to it have a pace.
    last_issue = db.session.scalar(sa.select(sa.func.max(Certificate.issued_on)).join(Person)
                                   .where(Person.county_code == "410221", Certificate.issued_on <= CAMPAIGN_END))
    login(make_user(Role.COUNTY, county_code="410221"))
    page = client.get(f"/stats?as_of={last_issue.isoformat()}").get_data(as_text=True)
    holders = re.search(r'<article[^>]*id="card-holders"[^>]*>(.*?)</article>', page, re.S).group(1)
    text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", holders))
    assert "未设目标" not in text
    assert re.search(r"完成\d+\.\d%", text), text
    assert re.search(r"预计达标\d{4}-\d{2}-\d{2}", text), text
    for key in ("skilled", "high_skilled", "training"):
        assert "未设目标" not in re.search(rf'id="card-{key}"[^>]*>(.*?)</article>', page, re.S).group(1), key


def test_a_second_run_adds_nothing_and_never_overwrites_an_admins_target(demo):
    set_target(None, "skilled_holders_total", "410221", 2025, "9")
    db.session.commit()
    seed_demo_targets()
    db.session.commit()
    assert seed_demo_targets() == 0
    value = db.session.scalar(sa.select(Target.value).where(Target.indicator_key == "skilled_holders_total",
                                                            Target.county_code == "410221", Target.year == 2025))
    assert Decimal(value) == 9


def test_make_runs_demo_command_sets_the_targets_even_when_the_demo_was_there_before(app, runner):
    first = runner.invoke(args=["demo", "--persons", "60", "--seed", "3"])
    assert first.exit_code == 0 and "演示县区目标与从业人员数：新设" in first.output
    db.session.execute(sa.delete(Target).where(Target.county_code != "410200"))
    db.session.commit()
    again = runner.invoke(args=["demo", "--persons", "60", "--unless-present"])
    assert "已有演示数据" in again.output and "演示县区目标与从业人员数：新设" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Target)
                             .where(Target.county_code != "410200")) > 0
