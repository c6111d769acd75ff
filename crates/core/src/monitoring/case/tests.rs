use super::*;

fn ts(minute: i64) -> Timestamp {
    "2020-04-15T09:00:00Z".parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_mins(minute)
}

fn officer(id: &str) -> OfficerId {
    OfficerId::parse(id).unwrap()
}

fn fine(rub: u32) -> Sanction {
    Sanction::Fine {
        amount_rub: NonZeroU32::new(rub).unwrap(),
    }
}

/// A `left_home` flag raised at minute 0 and notified at minute 1.
fn notified(kind: FlagKind) -> FlagCase {
    let raised = FlagCase::raise(kind, ts(-40), ts(-25), ts(0));
    raised.case.mark_notified(ts(1)).unwrap().case
}

fn confirmed_by(who: &str) -> FlagCase {
    notified(FlagKind::LeftHome)
        .confirm(
            &officer(who),
            ts(60),
            fine(4000),
            "40 minutes 900 m away, no explanation",
        )
        .unwrap()
        .case
}

#[test]
fn raising_a_flag_tells_the_patient() {
    let t = FlagCase::raise(FlagKind::LeftHome, ts(-40), ts(-25), ts(0));
    assert_eq!(t.case.state(), &FlagState::Open);
    assert_eq!(
        t.notifications,
        vec![PatientSms::FlagRaised {
            kind: FlagKind::LeftHome,
            seen_from: ts(-40),
            seen_to: ts(-25),
        }]
    );
    assert_eq!(t.event.actor(), Actor::System);
    assert!(t.event.requires_patient_sms());
    assert_eq!(t.case.sanction_in_force(), None);
}

#[test]
fn no_decision_before_the_patient_is_told() {
    let open = FlagCase::raise(FlagKind::LeftHome, ts(-40), ts(-25), ts(0)).case;
    let err = open
        .confirm(&officer("o1"), ts(5), fine(4000), "reason")
        .unwrap_err();
    assert_eq!(
        err,
        TransitionError::NotAllowed {
            state: "open",
            event: "confirmed"
        }
    );
    assert!(open.dismiss(&officer("o1"), ts(5), "").is_err());
    assert!(!open.awaits_officer());
    assert!(notified(FlagKind::LeftHome).awaits_officer());
}

#[test]
fn dismissal_is_recorded_and_sent() {
    let t = notified(FlagKind::LeftHome)
        .dismiss(&officer("o1"), ts(30), "  GPS jump; patient was asleep ")
        .unwrap();
    let FlagState::Dismissed(d) = t.case.state() else {
        panic!()
    };
    assert_eq!(
        (d.officer().as_str(), d.at(), d.note()),
        ("o1", ts(30), "GPS jump; patient was asleep")
    );
    assert_eq!(
        t.notifications,
        vec![PatientSms::Dismissed {
            kind: FlagKind::LeftHome
        }]
    );
    assert_eq!(t.case.state().as_str(), "dismissed");
    // Final: nothing follows a dismissal.
    assert!(t.case.appeal(ts(40), "why").is_err());
    assert!(t
        .case
        .confirm(&officer("o2"), ts(40), Sanction::Warning, "changed my mind")
        .is_err());
}

#[test]
fn a_sanction_needs_an_officer_and_a_reason() {
    let n = notified(FlagKind::LeftHome);
    assert_eq!(
        n.confirm(&officer("o1"), ts(60), fine(4000), "   ")
            .unwrap_err(),
        TransitionError::MissingReason("confirmation")
    );
    let t = n
        .confirm(
            &officer("o1"),
            ts(60),
            fine(4000),
            "seen 900 m away for 40 minutes",
        )
        .unwrap();
    let FlagState::Confirmed(c) = t.case.state() else {
        panic!()
    };
    assert_eq!(c.decision().officer(), &officer("o1"));
    assert_eq!(c.sanction(), &fine(4000));
    assert_eq!(t.case.sanction_in_force(), Some(&fine(4000)));
    assert_eq!(t.case.state().as_str(), "confirmed_with_sanction");
    assert_eq!(
        t.notifications,
        vec![PatientSms::Confirmed {
            kind: FlagKind::LeftHome,
            sanction: fine(4000)
        }]
    );
    assert_eq!(t.event.actor(), Actor::Officer(officer("o1")));
}

#[test]
fn silence_is_never_sanctioned() {
    let n = notified(FlagKind::NoSignal);
    assert_eq!(
        n.confirm(
            &officer("o1"),
            ts(60),
            Sanction::Warning,
            "phone off all day"
        )
        .unwrap_err(),
        TransitionError::NotSanctionable("no_signal")
    );
    assert!(n.dismiss(&officer("o1"), ts(60), "battery").is_ok());
    // A missed check-in may be, after an officer looks at it.
    assert!(notified(FlagKind::MissedCheckin)
        .confirm(
            &officer("o1"),
            ts(60),
            Sanction::Warning,
            "third miss this week, phone reporting"
        )
        .is_ok());
}

#[test]
fn an_appeal_is_decided_by_another_officer() {
    let confirmed = confirmed_by("o1");
    assert_eq!(
        confirmed.appeal(ts(100), " ").unwrap_err(),
        TransitionError::MissingReason("appeal")
    );
    let appealed = confirmed
        .appeal(ts(100), "I was at the hospital; certificate attached")
        .unwrap();
    assert!(appealed.notifications.is_empty());
    assert_eq!(appealed.event.actor(), Actor::Patient);
    let appealed = appealed.case;
    assert!(appealed.awaits_officer());
    assert_eq!(appealed.sanction_in_force(), Some(&fine(4000)));

    assert_eq!(
        appealed
            .decide_appeal(&officer("o1"), ts(200), true, "fair enough")
            .unwrap_err(),
        TransitionError::SameOfficer(officer("o1"))
    );
    let upheld = appealed
        .decide_appeal(&officer("o2"), ts(200), true, "hospital visit confirmed")
        .unwrap();
    assert_eq!(upheld.case.state().as_str(), "appeal_upheld");
    assert_eq!(upheld.case.sanction_in_force(), None);
    assert_eq!(
        upheld.notifications,
        vec![PatientSms::AppealUpheld {
            kind: FlagKind::LeftHome
        }]
    );

    let rejected = appealed
        .decide_appeal(&officer("o3"), ts(200), false, "no certificate")
        .unwrap();
    assert_eq!(rejected.case.state().as_str(), "appeal_rejected");
    assert_eq!(rejected.case.sanction_in_force(), Some(&fine(4000)));
    assert_eq!(
        rejected.notifications,
        vec![PatientSms::AppealRejected {
            kind: FlagKind::LeftHome,
            sanction: fine(4000)
        }]
    );
    // One appeal, one decision.
    assert!(rejected.case.appeal(ts(300), "again").is_err());
    assert!(rejected
        .case
        .decide_appeal(&officer("o2"), ts(300), true, "x")
        .is_err());
}

#[test]
fn every_step_records_who_and_when_in_order() {
    let c = confirmed_by("o1");
    assert_eq!(
        c.appeal(ts(59), "before the decision?").unwrap_err(),
        TransitionError::TimeGoesBackwards {
            last: ts(60),
            at: ts(59)
        }
    );
    let done = c
        .appeal(ts(100), "statement")
        .unwrap()
        .case
        .decide_appeal(&officer("o2"), ts(200), false, "reason")
        .unwrap()
        .case;
    let who: Vec<(Actor, Timestamp)> = done.history().iter().map(|e| (e.actor(), e.at())).collect();
    assert_eq!(
        who,
        vec![
            (Actor::System, ts(0)),
            (Actor::System, ts(1)),
            (Actor::Officer(officer("o1")), ts(60)),
            (Actor::Patient, ts(100)),
            (Actor::Officer(officer("o2")), ts(200)),
        ]
    );
    // Exactly the flag and the three decisions need an SMS.
    let sms: Vec<bool> = done
        .history()
        .iter()
        .map(Event::requires_patient_sms)
        .collect();
    assert_eq!(sms, vec![true, false, true, false, true]);
}

#[test]
fn the_stored_log_replays_and_is_checked() {
    let done = confirmed_by("o1")
        .appeal(ts(100), "statement")
        .unwrap()
        .case
        .decide_appeal(&officer("o2"), ts(200), true, "reason")
        .unwrap()
        .case;
    let json = serde_json::to_string(done.history()).unwrap();
    assert!(json.contains(r#""event":"confirmed""#) && json.contains(r#""type":"fine""#));
    let events: Vec<Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(FlagCase::replay(&events).unwrap(), done);

    // A log edited so that the confirming officer decides their own appeal is refused.
    let mut forged = events.clone();
    if let Event::AppealUpheld { officer: o, .. } = &mut forged[4] {
        *o = officer("o1");
    }
    assert_eq!(
        FlagCase::replay(&forged),
        Err(TransitionError::SameOfficer(officer("o1")))
    );
    // A sanction without the notification step, or a log not starting with the flag.
    let mut skipped = events.clone();
    skipped.remove(1);
    assert!(FlagCase::replay(&skipped).is_err());
    assert_eq!(
        FlagCase::replay(&events[1..]),
        Err(TransitionError::NotRaised)
    );
    assert_eq!(FlagCase::replay(&[]), Err(TransitionError::NotRaised));
    // Officer ids and fines are checked on the way in too.
    assert!(serde_json::from_str::<Event>(
        r#"{"event":"dismissed","at":"2020-04-15T09:00:00Z","officer":"","note":""}"#
    )
    .is_err());
    assert!(serde_json::from_str::<Sanction>(r#"{"type":"fine","amount_rub":0}"#).is_err());
}

#[test]
fn officer_ids() {
    assert!(OfficerId::parse("").is_err());
    assert!(OfficerId::parse("a\nb").is_err());
    assert!(OfficerId::parse(&"x".repeat(65)).is_err());
    assert_eq!(officer("0191c1e2-aaaa").to_string(), "0191c1e2-aaaa");
}
