//! What the monitoring API answers with: cases, flags, check-ins and loaner phones as
//! officers (and, for flags and check-ins, patients' apps) read them. Each is the JSON a
//! handler writes and the schema the OpenAPI document shows.

use jiff::Timestamp;
use propusk_core::domain::{distance_m, GeoPoint};
use propusk_core::monitoring::case::{CaseStatus, FlagStage, Sanction};
use propusk_core::monitoring::checkins::ChallengeKind;
use propusk_core::monitoring::face::FaceComparison;
use propusk_core::monitoring::FlagKind;
use propusk_store::{CaseActivity, CaseRecord, ChallengeRecord, FlagRecord, Loaner};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Home address with its coordinates (WGS 84).
#[derive(Serialize, ToSchema)]
#[schema(as = CaseHome)]
pub struct HomeView {
    address: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
}

/// A quarantine case as its officers read it.
#[derive(Serialize, ToSchema)]
#[schema(as = Case)]
pub struct CaseView {
    #[schema(format = Uuid)]
    id: String,
    status: CaseStatus,
    phone: String,
    full_name: String,
    /// Null once the case's data is past retention.
    home: Option<HomeView>,
    radius_m: f64,
    time_zone: String,
    /// The language of the patient's SMS: `ru` or `en`.
    #[schema(pattern = "^(ru|en)$")]
    lang: String,
    #[schema(value_type = String, format = DateTime)]
    starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    ends_at: Timestamp,
    /// When the first device enrolled.
    #[schema(value_type = Option<String>, format = DateTime)]
    monitoring_since: Option<Timestamp>,
    created_by: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    ended_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    closed_at: Option<Timestamp>,
    /// When the case's personal data and location reports were erased after retention
    /// (null until then).
    #[schema(value_type = Option<String>, format = DateTime)]
    purged_at: Option<Timestamp>,
    /// Location reports erased after retention (null until then).
    #[schema(minimum = 0)]
    purged_fixes: Option<i64>,
    /// With a case read on its own: what its phones have sent so far.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    activity: Option<ActivityView>,
    /// With a case read on its own: its flags, as [`FlagView`] shows them to an officer.
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<Vec<FlagView>>,
}

/// What a case's phones have sent so far.
#[derive(Serialize, ToSchema)]
pub struct ActivityView {
    /// The newest location report's time (null before the first, and after retention).
    #[schema(value_type = Option<String>, format = DateTime)]
    last_report_at: Option<Timestamp>,
    /// Location reports received, those erased after retention included.
    #[schema(minimum = 0)]
    reports_received: i64,
    /// When an app of the case last called the API (noted at most every 30 s): an open
    /// app uploads a fix every minute.
    #[schema(value_type = Option<String>, format = DateTime)]
    app_last_seen_at: Option<Timestamp>,
}

impl CaseView {
    pub fn of(case: &CaseRecord) -> Self {
        // Both are erased together after retention.
        let home = case
            .home
            .zip(case.home_address.clone())
            .map(|(h, address)| HomeView {
                address,
                lat: h.lat(),
                lon: h.lon(),
            });
        Self {
            id: case.id.clone(),
            status: case.status,
            phone: case.phone.clone(),
            full_name: case.full_name.clone(),
            home,
            radius_m: case.radius_m,
            time_zone: case.time_zone.clone(),
            lang: case.lang.clone(),
            starts_at: case.starts_at,
            ends_at: case.ends_at,
            monitoring_since: case.monitoring_since,
            created_by: case.created_by.clone(),
            ended_at: case.ended_at,
            closed_at: case.closed_at,
            purged_at: case.purged_at,
            purged_fixes: case.purged_fixes,
            activity: None,
            flags: None,
        }
    }

    /// The case read on its own: with its phones' activity and its flags.
    pub fn with(mut self, activity: CaseActivity, flags: Vec<FlagView>) -> Self {
        self.activity = Some(ActivityView {
            last_report_at: activity.last_report_at,
            reports_received: activity.reports_received,
            app_last_seen_at: activity.app_last_seen_at,
        });
        self.flags = Some(flags);
        self
    }
}

/// One step in a flag's life: who (the officer, where one acted) and when. `event` is
/// `raised`, `notified`, `dismissed`, `confirmed`, `appealed`, `appeal_upheld` or
/// `appeal_rejected`; the other members are the step's own.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FlagEvent {
    #[schema(
        pattern = "^(raised|notified|dismissed|confirmed|appealed|appeal_upheld|appeal_rejected)$"
    )]
    event: String,
    #[schema(format = DateTime)]
    at: String,
    /// Staff id of the deciding officer.
    officer: Option<String>,
}

/// A flag: what the software saw, for a person to decide.
#[derive(Serialize, ToSchema)]
#[schema(as = Flag)]
pub struct FlagView {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    case_id: String,
    kind: FlagKind,
    state: FlagStage,
    /// Start of what was seen (report time, not upload time).
    #[schema(value_type = String, format = DateTime)]
    from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    to: Timestamp,
    ongoing: bool,
    /// Map-free evidence tagged by `kind`: for `left_home` counts of fixes by class,
    /// distances from home and accuracies (min/median/max), the last fix at home before and
    /// first after, a thinned track of (time, distance, accuracy, class), and
    /// `confirmed_by_checkin` (the check-in answer that placed the patient far from home
    /// during the run, which makes it a departure at once; null otherwise); for `no_signal`
    /// the last report before and first after the silence. Never coordinates.
    #[schema(value_type = Object)]
    evidence: Value,
    sanction: Option<Sanction>,
    awaits_officer: bool,
    /// Every step; on the patient's own flags without the officers' ids.
    #[schema(value_type = Vec<FlagEvent>)]
    history: Value,
    /// For `left_home` read by an officer: the questions the service asked at once during
    /// the run (immediate check-ins), answered or not. An unanswered one is never a flag by
    /// itself and never a sanction.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkins: Option<Vec<CheckinView>>,
    /// The patient's explanation, written before the first decision (replaced until then,
    /// kept afterwards); null when there is none.
    statement: Option<FlagStatement>,
}

/// What the patient wrote about a flag before an officer decided it.
#[derive(Serialize, ToSchema)]
pub struct FlagStatement {
    /// Plain text, at most 2000 characters.
    text: String,
    /// When it was last written.
    #[schema(value_type = String, format = DateTime)]
    written_at: Timestamp,
}

impl FlagView {
    /// The flag as an officer sees it (the history with the officers' ids).
    pub fn of(flag: &FlagRecord) -> Self {
        Self {
            id: flag.id.clone(),
            case_id: flag.case_id.clone(),
            kind: flag.kind,
            state: flag.state,
            from: flag.from,
            to: flag.to,
            ongoing: flag.ongoing,
            evidence: flag.evidence.clone(),
            sanction: flag.sanction.clone(),
            awaits_officer: flag.awaits_officer,
            history: serde_json::to_value(&flag.history).expect("a flag's events serialize"),
            checkins: None,
            statement: flag.statement.as_ref().map(|s| FlagStatement {
                text: s.text.clone(),
                written_at: s.written_at,
            }),
        }
    }

    /// With the questions asked during it.
    pub fn with_checkins(mut self, checkins: Vec<CheckinView>) -> Self {
        self.checkins = Some(checkins);
        self
    }

    /// The patient's copy: the officers' ids taken out of the history.
    pub fn without_officers(mut self) -> Self {
        if let Value::Array(events) = &mut self.history {
            for event in events {
                if let Value::Object(map) = event {
                    map.remove("officer");
                }
            }
        }
        self
    }
}

/// For an immediate check-in: the fix that raised it, map-free.
#[derive(Serialize, ToSchema)]
pub struct AskedFor {
    /// When the phone took the fix that raised the question.
    #[schema(value_type = String, format = DateTime)]
    ts: Timestamp,
    /// How far from home it was.
    distance_m: u64,
    /// Its reported accuracy.
    #[schema(minimum = 0)]
    accuracy_m: f64,
}

/// An automatic face matcher's opinion, advisory only; present when the check-in has a photo.
#[derive(Serialize, ToSchema)]
pub struct FaceMatch {
    /// `not_assessed`, `similar` or `different`.
    #[schema(pattern = "^(not_assessed|similar|different)$")]
    result: &'static str,
    /// The matcher's confidence (absent when not assessed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    score: Option<f32>,
    /// `officer` when no automatic matcher is configured (none is by default): the officer
    /// compares the photos side by side.
    by: String,
}

impl AskedFor {
    pub fn of(a: propusk_store::AskedFor) -> Self {
        Self {
            ts: a.ts,
            distance_m: a.distance_m.round() as u64,
            accuracy_m: a.accuracy_m,
        }
    }
}

impl FaceMatch {
    pub fn of(opinion: FaceComparison, by: &str) -> Self {
        let (result, score) = match opinion {
            FaceComparison::NotAssessed => ("not_assessed", None),
            FaceComparison::Similar { score } => ("similar", Some(score)),
            FaceComparison::Different { score } => ("different", Some(score)),
        };
        Self {
            result,
            score,
            by: by.to_string(),
        }
    }
}

/// A check-in: a question the service asked, and its answer's times and distance.
#[derive(Serialize, ToSchema)]
#[schema(as = Checkin)]
pub struct CheckinView {
    #[schema(format = Uuid)]
    id: String,
    kind: ChallengeKind,
    asked_for: Option<AskedFor>,
    /// When the answer arrived (later when taken offline).
    #[schema(value_type = Option<String>, format = DateTime)]
    received_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    issued_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    deadline: Timestamp,
    /// When the answer was taken.
    #[schema(value_type = Option<String>, format = DateTime)]
    answered_at: Option<Timestamp>,
    late: Option<bool>,
    has_photo: bool,
    /// Distance from home of the answer's location (map-free).
    distance_m: Option<u64>,
    accuracy_m: Option<f64>,
    /// The `missed_checkin` flag raised for it (never for an immediate check-in).
    #[schema(format = Uuid)]
    flag_id: Option<String>,
    /// In the officers' queue: the check-in's case.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    case_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    face_match: Option<FaceMatch>,
}

impl CheckinView {
    /// A check-in as its officer sees it; the distance needs the case's home.
    pub fn of(c: &ChallengeRecord, home: Option<GeoPoint>) -> Self {
        Self {
            id: c.id.clone(),
            kind: c.kind,
            asked_for: c.asked_for.map(AskedFor::of),
            received_at: c.received_at,
            issued_at: c.issued_at,
            deadline: c.deadline,
            answered_at: c.answered_at,
            late: c.answered_at.map(|a| a >= c.deadline),
            has_photo: c.has_photo,
            distance_m: home
                .zip(c.point)
                .map(|(h, p)| distance_m(h, p).round() as u64),
            accuracy_m: c.accuracy_m,
            flag_id: c.flag_id.clone(),
            case_id: None,
            face_match: None,
        }
    }

    pub fn in_case(mut self, case_id: &str) -> Self {
        self.case_id = Some(case_id.to_string());
        self
    }

    pub fn with_face_match(mut self, face_match: FaceMatch) -> Self {
        self.face_match = Some(face_match);
        self
    }
}

/// A loaner phone and where it is in its life.
#[derive(Serialize, ToSchema)]
#[schema(as = Loaner)]
pub struct LoanerView {
    serial: String,
    /// `in_stock`, `on_loan`, `returned`, `wiped` or `lost`.
    #[schema(pattern = "^(in_stock|on_loan|returned|wiped|lost)$")]
    state: &'static str,
    #[schema(format = Uuid)]
    case_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    lent_at: Option<Timestamp>,
    /// The case's end when lent.
    #[schema(value_type = Option<String>, format = DateTime)]
    due_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    returned_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    wiped_at: Option<Timestamp>,
    /// The last return or wipe checklist.
    #[schema(value_type = Option<std::collections::BTreeMap<String, bool>>)]
    checklist: Option<Value>,
}

impl LoanerView {
    pub fn of(l: &Loaner) -> Self {
        Self {
            serial: l.serial.clone(),
            state: l.state.as_str(),
            case_id: l.case_id.clone(),
            lent_at: l.lent_at,
            due_at: l.due_at,
            returned_at: l.returned_at,
            wiped_at: l.wiped_at,
            checklist: l.checklist.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoanerList {
    pub loaners: Vec<LoanerView>,
}
