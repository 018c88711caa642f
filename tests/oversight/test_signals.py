"""Each signal: data that triggers it exactly once beside data that must not trigger it, through a recount."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.core.db import db
from registry.oversight.models import SignalInstance, SignalSetting, SignalStatus
from registry.oversight.refresh import refresh_signals
from registry.oversight.signals import SIGNALS, THRESHOLDS
from tests.helpers import resident_id
from tests.oversight.conftest import instances

TODAY = date.today()
# A second award needs an audited reason since [Assessment integrity]; the signal still shows it to officials.
REPEAT = "另一机构重新认定（测试）"


def refreshed(signal: str) -> list[SignalInstance]:
    refresh_signals(None, only=(signal,))
    db.session.commit()
    return instances(signal)


def test_every_signal_says_what_it_means_and_names_only_known_thresholds():
    assert len(SIGNALS) == 9
    for definition in SIGNALS.values():
        assert definition.title and len(definition.description) > 30
        assert set(definition.thresholds) <= THRESHOLDS.keys()


def test_duplicate_award_across_agencies(certify, welding_agency, make_person):
    first, second = welding_agency(), welding_agency()
    twice, corrected, two_levels = make_person(), make_person(), make_person()
    certify(first, twice, level=4, assessed_on=date(2024, 3, 1))
    certify(second, twice, level=4, assessed_on=date(2025, 3, 1),
            repeat_reason=REPEAT)
    # Not a duplicate: a corrected certificate is superseded by its replacement, and another level is another.
    batch = certify(first, corrected, level=4)
    from registry.certificates.operations import correct_certificate
    correct_certificate(None, batch_certificate(batch), "姓名更正", name="更正后")
    certify(first, two_levels, level=5, assessed_on=date(2020, 6, 1))
    certify(first, two_levels, level=4, assessed_on=date(2025, 6, 1))
    db.session.commit()

    found = refreshed("duplicate_award")

    assert [instance.subject_key.split(":")[0] for instance in found] == [str(twice.id)]
    assert "跨机构" in found[0].summary and found[0].agency_id is None
    assert found[0].status is SignalStatus.OPEN and found[0].county_code == "410221"


def batch_certificate(batch):
    from registry.certificates.models import Certificate

    return db.session.scalar(sa.select(Certificate).where(Certificate.batch_id == batch.id))


def test_level_ladder_within_the_window(certify, welding_agency, make_person):
    agency = welding_agency()
    quick, slow = make_person(), make_person()
    certify(agency, quick, level=5, assessed_on=date(2025, 1, 10))
    certify(agency, quick, level=4, assessed_on=date(2025, 6, 10))
    certify(agency, slow, level=5, assessed_on=date(2021, 1, 10))
    certify(agency, slow, level=4, assessed_on=date(2025, 6, 10))

    found = refreshed("level_ladder")

    assert [instance.subject_key.split(":")[0] for instance in found] == [str(quick.id)]
    assert found[0].agency_id == agency.id


def test_level_ladder_follows_the_administrators_window(certify, welding_agency, make_person):
    agency = welding_agency()
    person = make_person()
    certify(agency, person, level=5, assessed_on=date(2024, 1, 10))
    certify(agency, person, level=4, assessed_on=date(2025, 6, 10))
    assert refreshed("level_ladder") == []
    db.session.add(SignalSetting(key="ladder_days", value=600))
    db.session.commit()
    assert len(refreshed("level_ladder")) == 1


def test_assessed_before_training_ended(certify, welding_agency, make_class, make_person):
    agency = welding_agency()
    running = make_class(starts_on=date(2025, 3, 1), ends_on=date(2025, 6, 30))
    ended = make_class(starts_on=date(2025, 3, 1), ends_on=date(2025, 4, 30))
    early = certify(agency, level=4, assessed_on=date(2025, 5, 10), training_class_id=running.id)
    certify(agency, level=4, assessed_on=date(2025, 5, 10), training_class_id=ended.id)
    certify(agency, level=4, assessed_on=date(2025, 5, 10))

    found = refreshed("assessed_before_training")

    assert [instance.subject_key for instance in found] == [str(early.id)]
    assert found[0].institution_id == running.institution_id and "2025-06-30" in found[0].summary


def test_short_attendance(certify, welding_agency, make_class, make_person):
    from registry.training.models import ClassStatus
    from registry.training.operations import enroll_person, record_completion

    agency = welding_agency()
    classes = [make_class(planned_hours=100, starts_on=date(2025, 3, 1), ends_on=date(2025, 4, 30),
                          status=ClassStatus.RUNNING) for _ in range(2)]
    batches = []
    for training_class, hours in zip(classes, (60, 95)):  # 60 < 90 % of 100; 95 is enough
        person = make_person()
        record_completion(None, enroll_person(None, training_class, person), date(2025, 4, 30), hours)
        db.session.commit()
        batches.append(certify(agency, person, assessed_on=date(2025, 5, 10), training_class_id=training_class.id))

    found = refreshed("short_attendance")

    assert [instance.subject_key for instance in found] == [str(batches[0].id)]
    assert "1 名考生" in found[0].summary


def test_late_results(certify, welding_agency):
    agency = welding_agency()
    late = certify(agency, assessed_on=TODAY - timedelta(days=45), issued_on=TODAY)
    certify(agency, assessed_on=TODAY - timedelta(days=5), issued_on=TODAY)

    found = refreshed("late_results")

    assert [instance.subject_key for instance in found] == [str(late.id)]
    assert "45 天后" in found[0].summary


def test_pass_rate_outlier_against_county_and_city(make_batch, make_person, welding_agency):
    from registry.assessment.operations import record_result

    lenient, usual, other, tiny = (welding_agency() for _ in range(4))

    def batch(agency, passed: int, failed: int):
        assessed = make_batch(agency=agency, assessed_on=TODAY - timedelta(days=3))
        for index in range(passed + failed):
            record_result(None, assessed, make_person(), theory=90 if index < passed else 30, practical=90)
        db.session.commit()

    batch(lenient, 10, 0)
    batch(usual, 10, 10)
    batch(other, 10, 10)
    batch(tiny, 0, 3)  # a 0 % pass rate, but below the smallest batch counted
    db.session.add_all([SignalSetting(key="pass_rate_min_batch", value=5), SignalSetting(key="pass_rate_z", value=2.5)])
    db.session.commit()

    found = refreshed("pass_rate_outlier")

    assert [instance.subject_key for instance in found] == [f"{lenient.id}:410221"]
    assert "100.0%" in found[0].summary and "z = 2.58" in found[0].summary


def test_implausible_age(certify, welding_agency, make_person):
    agency = welding_agency()
    child = make_person(born="20120101")  # 13 on 2025-05-10
    almost = make_person(born="20090510")  # 16 that very day: plausible
    certify(agency, child)
    certify(agency, almost)
    certify(agency, make_person(born="19560511"))  # 68

    found = refreshed("implausible_age")

    assert len(found) == 1 and f"人员 #{child.id}" in found[0].summary and "13 岁" in found[0].summary


def test_volume_spike_of_an_agency(certify, welding_agency, make_person):
    agency, steady = welding_agency(), welding_agency()
    db.session.add(SignalSetting(key="spike_minimum", value=3))
    db.session.commit()
    for month in range(1, 7):  # one certificate a month, then five in July
        certify(agency, assessed_on=date(2025, month, 10))
        certify(steady, assessed_on=date(2025, month, 10))
    for _ in range(5):
        certify(agency, assessed_on=date(2025, 7, 10))
    certify(steady, assessed_on=date(2025, 7, 10))

    found = refreshed("volume_spike")

    assert [instance.subject_key for instance in found] == [f"agency:{agency.id}:2025-07"]


def test_volume_spike_of_an_institution(make_class, make_person, make_institution):
    from registry.training.models import ClassStatus
    from registry.training.operations import enroll_person

    db.session.add(SignalSetting(key="spike_minimum", value=3))
    db.session.commit()
    busy, steady = make_institution(), make_institution()
    for institution, july in ((busy, 6), (steady, 1)):
        training_class = make_class(institution, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31),
                                    status=ClassStatus.RUNNING)
        for month in range(1, 7):
            enroll_person(None, training_class, make_person(), date(2025, month, 3))
        for _ in range(july):
            enroll_person(None, training_class, make_person(), date(2025, 7, 3))
        db.session.commit()

    found = refreshed("volume_spike")

    assert [instance.subject_key for instance in found] == [f"institution:{busy.id}:2025-07"]


def test_assessor_in_two_places_at_once(make_batch, welding_agency):
    from registry.oversight.operations import add_assessor, assign_assessor

    agency = welding_agency()
    busy = add_assessor(None, agency, "王考评", resident_id(11, "19800101"), "KPY-001", [(occupation_id(), 5, 3)])
    careful = add_assessor(None, agency, "李考评", resident_id(38, "19800101"), "KPY-002", [(occupation_id(), 5, 3)])
    here = make_batch(agency=agency, assessed_on=date(2025, 5, 10), county_code="410221")
    there = make_batch(agency=agency, assessed_on=date(2025, 5, 10), county_code="410222")
    later = make_batch(agency=agency, assessed_on=date(2025, 5, 11), county_code="410222")
    for batch in (here, there):
        assign_assessor(None, batch, busy)
    for batch in (here, later):  # the next day elsewhere is fine
        assign_assessor(None, batch, careful)
    db.session.commit()

    found = refreshed("assessor_overlap")

    assert [instance.subject_key for instance in found] == [f"{busy.id}:{here.id}:{there.id}"]


def occupation_id() -> int:
    from registry.reference.models import Occupation

    return db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))


def test_a_recount_keeps_handling_and_marks_what_is_gone(certify, welding_agency, make_person):
    from registry.certificates.operations import revoke_certificate

    first, second = welding_agency(), welding_agency()
    person = make_person()
    certify(first, person, assessed_on=date(2024, 3, 1))
    batch = certify(second, person, assessed_on=date(2025, 3, 1), repeat_reason=REPEAT)
    [instance] = refreshed("duplicate_award")
    instance.status = SignalStatus.EXPLAINED
    db.session.commit()
    assert refreshed("duplicate_award")[0].status is SignalStatus.EXPLAINED  # found again, not reopened

    revoke_certificate(None, batch_certificate(batch), "重复发证，撤销")
    db.session.commit()
    [gone] = refreshed("duplicate_award")
    assert gone.is_current is False and gone.status is SignalStatus.EXPLAINED


@pytest.mark.parametrize("key", sorted(SIGNALS))
def test_no_signal_fires_on_an_empty_registry(app, key):
    assert refreshed(key) == []


def test_the_command_recounts_and_says_what_it_found(runner, certify, welding_agency, make_person):
    person = make_person()
    certify(welding_agency(), person, assessed_on=date(2024, 3, 1))
    certify(welding_agency(), person, assessed_on=date(2025, 3, 1), repeat_reason=REPEAT)

    result = runner.invoke(args=["oversight", "signals"])

    assert result.exit_code == 0, result.output
    assert "重复发证（duplicate_award）：1 条，新增 1" in result.output
    assert len(instances("duplicate_award")) == 1
    again = runner.invoke(args=["oversight", "signals", "--only", "duplicate_award"])
    assert "：1 条，新增 0，不再出现 0" in again.output
