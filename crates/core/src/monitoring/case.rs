//! The life of a flag, from suspicion to decision to appeal.
//!
//! ```text
//! open ──► notified ──► dismissed
//!                  └──► confirmed (with a sanction) ──► appealed ──► appeal_upheld
//!                                                              └──► appeal_rejected
//! ```
//!
//! # The rules, and why
//!
//! Moscow's 2020 system issued fines straight from the software. Here a sanction cannot
//! exist without a person having decided it, and the person sanctioned always hears of it and
//! can ask someone else to look again:
//!
//! - **No sanction without an officer's decision.** A [`Sanction`] lives only inside a
//!   [`Confirmation`], which records the [`OfficerId`] who decided, when, and the reason they
//!   gave; neither type can be built outside this module, and the only way to a confirmed
//!   flag is [`FlagCase::confirm`]. A `no_signal` flag cannot be confirmed at all
//!   ([`super::FlagKind::may_be_sanctioned`]).
//! - **The patient hears first.** A raised flag sends the patient an informative SMS (what
//!   was seen, when, how to explain — not a fine); no officer may decide until that SMS has
//!   gone out ([`FlagCase::mark_notified`]), so the patient always has the chance to explain.
//! - **An SMS for every flag and every decision.** [`Transition::notifications`] carries the
//!   SMS each step requires ([`Event::requires_patient_sms`]); the store writes the event and
//!   queues the SMS in one transaction.
//! - **A different officer decides the appeal.** [`FlagCase::decide_appeal`] refuses the
//!   officer who confirmed the sanction.
//! - **Every step records who and when.** The state is the fold of an event log
//!   ([`Event`]); each event names its actor ([`Event::actor`]) and time, and times never go
//!   backwards. The store persists the events; [`FlagCase::replay`] rebuilds the state and
//!   re-checks every rule, so a tampered or corrupt log is refused rather than believed.

use std::fmt;
use std::num::NonZeroU32;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::FlagKind;

/// A health officer's staff account id, as the server's authentication knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficerId(String);

/// An officer id that is empty, too long or has control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("officer id {0:?} is malformed; expected 1 to 64 printable characters")]
pub struct OfficerIdError(String);

impl OfficerId {
    /// Parses an id.
    pub fn parse(s: &str) -> Result<Self, OfficerIdError> {
        if !s.is_empty() && s.chars().count() <= 64 && !s.chars().any(char::is_control) {
            Ok(Self(s.to_owned()))
        } else {
            Err(OfficerIdError(s.to_owned()))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OfficerId {
    type Error = OfficerIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OfficerId> for String {
    fn from(id: OfficerId) -> Self {
        id.0
    }
}

impl fmt::Display for OfficerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an officer imposes when confirming a violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Sanction {
    /// A formal warning.
    Warning,
    /// A fine, in whole roubles (never zero: a zero fine is a warning).
    Fine {
        /// The amount.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1))]
        amount_rub: NonZeroU32,
    },
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// The evaluator or the SMS outbox, on the server's behalf.
    System,
    /// The patient, through the patient app.
    Patient,
    /// A health officer.
    Officer(OfficerId),
}

/// One step in a flag's life, as stored. Serialised with an `event` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The evaluator raised the flag for what it saw from `seen_from` to `seen_to`.
    Raised {
        /// When.
        at: Timestamp,
        /// Which kind of flag.
        kind: FlagKind,
        /// The start of the evidence.
        seen_from: Timestamp,
        /// The end of the evidence when raised.
        seen_to: Timestamp,
    },
    /// The SMS telling the patient about the flag was handed to the gateway.
    Notified {
        /// When.
        at: Timestamp,
    },
    /// An officer found no violation.
    Dismissed {
        /// When.
        at: Timestamp,
        /// Who.
        officer: OfficerId,
        /// Why (may be empty: dismissing needs no justification).
        note: String,
    },
    /// An officer found a violation and imposed a sanction.
    Confirmed {
        /// When.
        at: Timestamp,
        /// Who.
        officer: OfficerId,
        /// What.
        sanction: Sanction,
        /// Why (required).
        note: String,
    },
    /// The patient appealed the sanction.
    Appealed {
        /// When.
        at: Timestamp,
        /// The patient's statement (required).
        statement: String,
    },
    /// A second officer upheld the appeal: the sanction is lifted.
    AppealUpheld {
        /// When.
        at: Timestamp,
        /// Who (never the officer who confirmed).
        officer: OfficerId,
        /// Why (required).
        note: String,
    },
    /// A second officer rejected the appeal: the sanction stands.
    AppealRejected {
        /// When.
        at: Timestamp,
        /// Who (never the officer who confirmed).
        officer: OfficerId,
        /// Why (required).
        note: String,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Self::Raised { at, .. }
            | Self::Notified { at }
            | Self::Dismissed { at, .. }
            | Self::Confirmed { at, .. }
            | Self::Appealed { at, .. }
            | Self::AppealUpheld { at, .. }
            | Self::AppealRejected { at, .. } => *at,
        }
    }

    /// Who did it.
    pub fn actor(&self) -> Actor {
        match self {
            Self::Raised { .. } | Self::Notified { .. } => Actor::System,
            Self::Appealed { .. } => Actor::Patient,
            Self::Dismissed { officer, .. }
            | Self::Confirmed { officer, .. }
            | Self::AppealUpheld { officer, .. }
            | Self::AppealRejected { officer, .. } => Actor::Officer(officer.clone()),
        }
    }

    /// Whether the patient must be sent an SMS about this step: every flag and every
    /// decision. (`Notified` is the record that the first one went out; an appeal is
    /// acknowledged in the app the patient used to make it.)
    pub fn requires_patient_sms(&self) -> bool {
        !matches!(self, Self::Notified { .. } | Self::Appealed { .. })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Raised { .. } => "raised",
            Self::Notified { .. } => "notified",
            Self::Dismissed { .. } => "dismissed",
            Self::Confirmed { .. } => "confirmed",
            Self::Appealed { .. } => "appealed",
            Self::AppealUpheld { .. } => "appeal_upheld",
            Self::AppealRejected { .. } => "appeal_rejected",
        }
    }
}

/// An officer's decision: who, when, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    officer: OfficerId,
    at: Timestamp,
    note: String,
}

impl Decision {
    /// Who decided.
    pub fn officer(&self) -> &OfficerId {
        &self.officer
    }

    /// When.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The reason they gave.
    pub fn note(&self) -> &str {
        &self.note
    }
}

/// A violation confirmed by an officer, with its sanction. The only place a [`Sanction`]
/// is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    decision: Decision,
    sanction: Sanction,
}

impl Confirmation {
    /// The decision.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The sanction imposed.
    pub fn sanction(&self) -> &Sanction {
        &self.sanction
    }
}

/// The patient's appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    at: Timestamp,
    statement: String,
}

impl Appeal {
    /// When it was made.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// What the patient said.
    pub fn statement(&self) -> &str {
        &self.statement
    }
}

/// Where a flag stands; each state holds exactly what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagState {
    /// Raised; the patient's SMS is queued.
    Open,
    /// The patient has been told; waiting for an officer.
    Notified,
    /// An officer found no violation.
    Dismissed(Decision),
    /// An officer confirmed a violation with a sanction.
    Confirmed(Confirmation),
    /// The patient appealed the confirmed sanction.
    Appealed(Confirmation, Appeal),
    /// A second officer upheld the appeal; the sanction is lifted.
    AppealUpheld(Confirmation, Appeal, Decision),
    /// A second officer rejected the appeal; the sanction stands.
    AppealRejected(Confirmation, Appeal, Decision),
}

impl FlagState {
    /// The wire name: `open`, `notified`, `dismissed`, `confirmed_with_sanction`,
    /// `appealed`, `appeal_upheld`, `appeal_rejected`.
    pub fn as_str(&self) -> &'static str {
        self.stage().as_str()
    }

    /// Where the flag stands, without what it rests on.
    pub fn stage(&self) -> FlagStage {
        match self {
            Self::Open => FlagStage::Open,
            Self::Notified => FlagStage::Notified,
            Self::Dismissed(_) => FlagStage::Dismissed,
            Self::Confirmed(_) => FlagStage::ConfirmedWithSanction,
            Self::Appealed(..) => FlagStage::Appealed,
            Self::AppealUpheld(..) => FlagStage::AppealUpheld,
            Self::AppealRejected(..) => FlagStage::AppealRejected,
        }
    }
}

/// Where a flag stands, by name: what lists, pages and the API show of a [`FlagState`].
/// `open`: the patient's SMS is queued; an officer may decide once it went out (`notified`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FlagStage {
    Open,
    Notified,
    Dismissed,
    ConfirmedWithSanction,
    Appealed,
    AppealUpheld,
    AppealRejected,
}

crate::wire_names!(FlagStage {
    Open => "open",
    Notified => "notified",
    Dismissed => "dismissed",
    ConfirmedWithSanction => "confirmed_with_sanction",
    Appealed => "appealed",
    AppealUpheld => "appeal_upheld",
    AppealRejected => "appeal_rejected",
});

/// Where a quarantine case stands: monitored (`active`), monitoring over (`ended`, early
/// or at its end; flags may still be decided), or `closed` (its devices revoked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CaseStatus {
    Active,
    Ended,
    Closed,
}

crate::wire_names!(CaseStatus {
    Active => "active",
    Ended => "ended",
    Closed => "closed",
});

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The step does not follow from the current state.
    #[error("cannot record {event} on a flag that is {state}")]
    NotAllowed {
        /// The current state.
        state: &'static str,
        /// The step asked for.
        event: &'static str,
    },
    /// A `no_signal` flag cannot carry a sanction.
    #[error(
        "a {0} flag cannot be confirmed with a sanction: silence is not a violation by itself"
    )]
    NotSanctionable(&'static str),
    /// The officer who confirmed a sanction may not decide its appeal.
    #[error("officer {0} confirmed this sanction and may not decide its appeal")]
    SameOfficer(OfficerId),
    /// A decision or appeal without the reason it needs.
    #[error("a {0} needs a reason")]
    MissingReason(&'static str),
    /// A step dated before the previous one.
    #[error("a step at {at} cannot follow one at {last}")]
    TimeGoesBackwards {
        /// The previous step.
        last: Timestamp,
        /// The refused step.
        at: Timestamp,
    },
    /// A stored log that does not begin with `raised`.
    #[error("a flag's history must begin with raised")]
    NotRaised,
}

impl TransitionError {
    /// The refusal in words for the officer or patient who asked for the step.
    pub fn localized(&self) -> crate::Localized {
        use crate::Localized;
        match self {
            Self::NotAllowed { state: "open", .. } => Localized::new(
                "Пациенту ещё не ушло SMS об этой отметке; решение можно принять после него.",
                "The patient's SMS about this flag has not gone out yet; decide once it has.",
            ),
            Self::NotAllowed { .. } | Self::TimeGoesBackwards { .. } | Self::NotRaised => {
                Localized::new(
                    "Этот шаг уже невозможен: отметку успели рассмотреть. Обновите страницу.",
                    "This step is no longer possible: the flag has already moved on. Reload the page.",
                )
            }
            Self::NotSanctionable(_) => Localized::new(
                "Эту отметку нельзя подтвердить с мерой: отсутствие сигнала само по себе не нарушение.",
                "This flag cannot be confirmed with a sanction: a lost signal is not a violation by itself.",
            ),
            Self::SameOfficer(_) => Localized::new(
                "Жалобу на ваше решение рассматривает другой врач.",
                "Another officer decides the appeal against your decision.",
            ),
            Self::MissingReason(_) => {
                Localized::new("Укажите причину.", "Give the reason.")
            }
        }
    }
}

/// What the patient must be told by SMS. The SMS crate renders the text in the patient's
/// language; these carry only the facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sms", rename_all = "snake_case")]
pub enum PatientSms {
    /// A flag was raised: what was seen and when, and how to explain; not a fine.
    FlagRaised {
        /// The kind.
        kind: FlagKind,
        /// The start of what was seen.
        seen_from: Timestamp,
        /// The end of what was seen.
        seen_to: Timestamp,
    },
    /// An officer found no violation.
    Dismissed {
        /// The kind.
        kind: FlagKind,
    },
    /// An officer confirmed a violation; how to appeal.
    Confirmed {
        /// The kind.
        kind: FlagKind,
        /// The sanction.
        sanction: Sanction,
    },
    /// The appeal was upheld; the sanction is lifted.
    AppealUpheld {
        /// The kind.
        kind: FlagKind,
    },
    /// The appeal was rejected; the sanction stands.
    AppealRejected {
        /// The kind.
        kind: FlagKind,
        /// The sanction.
        sanction: Sanction,
    },
    /// A check-in is open: answer it in the app before the deadline (the SMS links to it).
    CheckinOpen {
        /// The check-in's id.
        challenge: String,
        /// The end of the time to answer.
        deadline: Timestamp,
        /// Asked at once because a fix placed the phone far from home (not drawn at random).
        asked: bool,
    },
}

/// A flag's life so far: its kind, its state, and the events that led there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagCase {
    kind: FlagKind,
    state: FlagState,
    history: Vec<Event>,
}

/// The result of a step: the new case, the event to append to the stored log, and the SMS
/// to queue with it (in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The case after the step.
    pub case: FlagCase,
    /// The event to store.
    pub event: Event,
    /// The SMS the step requires.
    pub notifications: Vec<PatientSms>,
}

fn required(what: &'static str, text: &str) -> Result<String, TransitionError> {
    let text = text.trim();
    if text.is_empty() {
        Err(TransitionError::MissingReason(what))
    } else {
        Ok(text.to_owned())
    }
}

impl FlagCase {
    /// Opens a case for a new flag, seen from `seen_from` to `seen_to`, raised at `at`.
    pub fn raise(
        kind: FlagKind,
        seen_from: Timestamp,
        seen_to: Timestamp,
        at: Timestamp,
    ) -> Transition {
        let event = Event::Raised {
            at,
            kind,
            seen_from,
            seen_to,
        };
        let case = Self {
            kind,
            state: FlagState::Open,
            history: vec![event.clone()],
        };
        Transition {
            notifications: case.sms_for(&event),
            case,
            event,
        }
    }

    /// Records that the patient's SMS about the flag went out.
    pub fn mark_notified(&self, at: Timestamp) -> Result<Transition, TransitionError> {
        self.apply(Event::Notified { at })
    }

    /// An officer finds no violation.
    pub fn dismiss(
        &self,
        officer: &OfficerId,
        at: Timestamp,
        note: &str,
    ) -> Result<Transition, TransitionError> {
        self.apply(Event::Dismissed {
            at,
            officer: officer.clone(),
            note: note.trim().to_owned(),
        })
    }

    /// An officer confirms a violation and imposes a sanction, giving a reason.
    pub fn confirm(
        &self,
        officer: &OfficerId,
        at: Timestamp,
        sanction: Sanction,
        note: &str,
    ) -> Result<Transition, TransitionError> {
        self.apply(Event::Confirmed {
            at,
            officer: officer.clone(),
            sanction,
            note: required("confirmation", note)?,
        })
    }

    /// The patient appeals a confirmed sanction.
    pub fn appeal(&self, at: Timestamp, statement: &str) -> Result<Transition, TransitionError> {
        self.apply(Event::Appealed {
            at,
            statement: required("appeal", statement)?,
        })
    }

    /// A second officer decides the appeal: `upheld` lifts the sanction.
    pub fn decide_appeal(
        &self,
        officer: &OfficerId,
        at: Timestamp,
        upheld: bool,
        note: &str,
    ) -> Result<Transition, TransitionError> {
        let (officer, note) = (officer.clone(), required("decision on an appeal", note)?);
        self.apply(if upheld {
            Event::AppealUpheld { at, officer, note }
        } else {
            Event::AppealRejected { at, officer, note }
        })
    }

    /// Applies one event, checking every rule. The named methods above build their event and
    /// call this; [`Self::replay`] calls it for each stored event.
    pub fn apply(&self, event: Event) -> Result<Transition, TransitionError> {
        let last = self.history.last().map_or(event.at(), Event::at);
        if event.at() < last {
            return Err(TransitionError::TimeGoesBackwards {
                last,
                at: event.at(),
            });
        }
        let not_allowed = || TransitionError::NotAllowed {
            state: self.state.as_str(),
            event: event.name(),
        };
        let state = match (&self.state, &event) {
            (FlagState::Open, Event::Notified { .. }) => FlagState::Notified,
            (FlagState::Notified, Event::Dismissed { at, officer, note }) => {
                FlagState::Dismissed(Decision {
                    officer: officer.clone(),
                    at: *at,
                    note: note.clone(),
                })
            }
            (
                FlagState::Notified,
                Event::Confirmed {
                    at,
                    officer,
                    sanction,
                    note,
                },
            ) => {
                if !self.kind.may_be_sanctioned() {
                    return Err(TransitionError::NotSanctionable(self.kind.as_str()));
                }
                FlagState::Confirmed(Confirmation {
                    decision: Decision {
                        officer: officer.clone(),
                        at: *at,
                        note: required("confirmation", note)?,
                    },
                    sanction: sanction.clone(),
                })
            }
            (FlagState::Confirmed(c), Event::Appealed { at, statement }) => FlagState::Appealed(
                c.clone(),
                Appeal {
                    at: *at,
                    statement: required("appeal", statement)?,
                },
            ),
            (
                FlagState::Appealed(c, a),
                Event::AppealUpheld { at, officer, note }
                | Event::AppealRejected { at, officer, note },
            ) => {
                if *officer == c.decision.officer {
                    return Err(TransitionError::SameOfficer(officer.clone()));
                }
                let review = Decision {
                    officer: officer.clone(),
                    at: *at,
                    note: required("decision on an appeal", note)?,
                };
                if matches!(event, Event::AppealUpheld { .. }) {
                    FlagState::AppealUpheld(c.clone(), a.clone(), review)
                } else {
                    FlagState::AppealRejected(c.clone(), a.clone(), review)
                }
            }
            _ => return Err(not_allowed()),
        };
        let mut history = self.history.clone();
        history.push(event.clone());
        let case = Self {
            kind: self.kind,
            state,
            history,
        };
        Ok(Transition {
            notifications: case.sms_for(&event),
            case,
            event,
        })
    }

    /// Rebuilds a case from its stored events, re-checking every rule.
    pub fn replay(events: &[Event]) -> Result<Self, TransitionError> {
        let Some((
            Event::Raised {
                at,
                kind,
                seen_from,
                seen_to,
            },
            rest,
        )) = events.split_first()
        else {
            return Err(TransitionError::NotRaised);
        };
        rest.iter().try_fold(
            Self::raise(*kind, *seen_from, *seen_to, *at).case,
            |case, e| case.apply(e.clone()).map(|t| t.case),
        )
    }

    fn sms_for(&self, event: &Event) -> Vec<PatientSms> {
        let kind = self.kind;
        let sms = match event {
            Event::Raised {
                seen_from, seen_to, ..
            } => PatientSms::FlagRaised {
                kind,
                seen_from: *seen_from,
                seen_to: *seen_to,
            },
            Event::Dismissed { .. } => PatientSms::Dismissed { kind },
            Event::Confirmed { sanction, .. } => PatientSms::Confirmed {
                kind,
                sanction: sanction.clone(),
            },
            Event::AppealUpheld { .. } => PatientSms::AppealUpheld { kind },
            Event::AppealRejected { .. } => match &self.state {
                FlagState::AppealRejected(c, ..) => PatientSms::AppealRejected {
                    kind,
                    sanction: c.sanction.clone(),
                },
                _ => unreachable!("an appeal_rejected event leads to the appeal_rejected state"),
            },
            Event::Notified { .. } | Event::Appealed { .. } => return Vec::new(),
        };
        vec![sms]
    }

    /// The flag's kind.
    pub fn kind(&self) -> FlagKind {
        self.kind
    }

    /// Where the flag stands.
    pub fn state(&self) -> &FlagState {
        &self.state
    }

    /// Every step so far, oldest first.
    pub fn history(&self) -> &[Event] {
        &self.history
    }

    /// The sanction in force, if any: confirmed and not lifted on appeal.
    pub fn sanction_in_force(&self) -> Option<&Sanction> {
        match &self.state {
            FlagState::Confirmed(c)
            | FlagState::Appealed(c, _)
            | FlagState::AppealRejected(c, ..) => Some(&c.sanction),
            _ => None,
        }
    }

    /// Whether the flag awaits a health officer (a first decision or an appeal).
    pub fn awaits_officer(&self) -> bool {
        matches!(self.state, FlagState::Notified | FlagState::Appealed(..))
    }
}

#[cfg(test)]
mod tests;
