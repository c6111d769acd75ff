//! Quarantine monitoring's background side: the periodic sweep that notices silence (a
//! dead phone sends nothing, so nothing else would ever evaluate its case) and announces
//! check-ins, the retention purge (raw locations are erased a whole day at a time a
//! configurable time — 30 days by default — after they were reported, and a case's remaining
//! locations, home and photos that long after it closes; only counts remain), the operator's
//! settings, and the patient SMS texts the store queues. The HTTP side is
//! `routes::monitoring` (officers) and `routes::device` (the patient's app).

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::SignedDuration;
use propusk_core::monitoring::asking::AskConfig;
use propusk_core::monitoring::case::PatientSms;
use propusk_core::monitoring::checkins::CheckinConfig;
use propusk_core::monitoring::face::{FaceMatcher, OfficerCompares};
use propusk_core::monitoring::geofence::GeofenceConfig;

use crate::state::AppState;

/// What the store needs to ask when in doubt, from the settings.
pub fn asking(settings: &MonitoringSettings) -> propusk_store::Asking<'_> {
    propusk_store::Asking {
        checkins: &settings.checkins,
        ask: &settings.asking,
    }
}

/// Patient SMS in the case's language (`ru` or `en`, chosen when the case was opened) on the
/// case's clocks; a check-in's links to it in the app at `app_url` (see
/// [`AppState::app_url`]).
pub fn sms_texts(app_url: &str) -> impl Fn(&PatientSms, &str, &str) -> String + Send + Sync + '_ {
    move |sms, time_zone, lang| {
        let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
        let lang = propusk_sms::Lang::parse(lang).unwrap_or_default();
        propusk_sms::monitoring::patient_with_app(lang, &tz, sms, app_url)
    }
}

/// The enrollment SMS in the case's language (`ru` or `en`): the code and the link that opens
/// the app with it (see `monitoring_rules::enrollment_link`).
pub fn enrollment_sms(code: &str, link: &str, lang: &str) -> String {
    let lang = propusk_sms::Lang::parse(lang).unwrap_or_default();
    propusk_sms::monitoring::enrollment(lang, code, link)
}

/// The geofence parameters the service evaluates with (the simulator's measured defaults).
pub fn geofence_config() -> GeofenceConfig {
    GeofenceConfig::default()
}

/// What an operator may set about monitoring (`[monitoring]` in the configuration file).
#[derive(Clone)]
pub struct MonitoringSettings {
    /// How long raw locations are kept after the day they were reported (whole days, never
    /// less than `propusk_store::MIN_RAW`), and a closed case its home and photos. Default
    /// [`DEFAULT_RETENTION`].
    pub retention: SignedDuration,
    /// When, how often and how long to answer check-ins (default 09:00–21:00 local, three a
    /// day, 20 minutes; never outside 07:00–22:00, which the type enforces).
    pub checkins: CheckinConfig,
    /// Gives an opinion on check-in photos; by default none ([`OfficerCompares`]).
    pub face_matcher: Arc<dyn FaceMatcher>,
    /// Whether and how eagerly to ask the patient at once when a fresh fix is far from home
    /// (on by default; the core's `asking`).
    pub asking: AskConfig,
    /// How often the patient's app keeps a fix while open ([`DEFAULT_REPORT_EVERY`]).
    pub report_every: SignedDuration,
}

/// How often the app keeps a fix by default: once a minute, within the 1–4 minutes the
/// evaluator's thresholds were measured with, and gentle on the battery.
pub const DEFAULT_REPORT_EVERY: SignedDuration = SignedDuration::from_secs(60);
/// The app's cadence may be set from 30 seconds (no timer runs more often while the app is
/// idle) to 10 minutes (the slowest cadence the evaluator's stay rule allows for).
pub const REPORT_EVERY_RANGE: (SignedDuration, SignedDuration) = (
    SignedDuration::from_secs(30),
    SignedDuration::from_secs(600),
);

/// How long a closed case keeps its raw data by default: 30 days.
pub const DEFAULT_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);

impl Default for MonitoringSettings {
    fn default() -> Self {
        Self {
            retention: DEFAULT_RETENTION,
            checkins: CheckinConfig::default(),
            face_matcher: Arc::new(OfficerCompares),
            asking: AskConfig::default(),
            report_every: DEFAULT_REPORT_EVERY,
        }
    }
}

impl std::fmt::Debug for MonitoringSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringSettings")
            .field("retention", &self.retention)
            .field("checkins", &self.checkins)
            .field("face_matcher", &self.face_matcher.name())
            .field("asking", &self.asking)
            .field("report_every", &self.report_every)
            .finish()
    }
}

/// Records a patient's answer to a check-in (from the app or the patient's page) and
/// evaluates the case with it; wakes the SMS outbox when the answer confirmed a departure.
pub async fn answer_checkin(
    state: &AppState,
    device: &propusk_store::Device,
    id: &str,
    answer: propusk_store::CheckinAnswer<'_>,
) -> propusk_store::Result<propusk_store::AnswerOutcome> {
    let app_url = state.app_url();
    let outcome = state
        .store
        .answer_challenge(
            device,
            id,
            answer,
            state.clock.now(),
            &geofence_config(),
            &sms_texts(&app_url),
        )
        .await?;
    if matches!(outcome, propusk_store::AnswerOutcome::Answered { raised, .. } if raised > 0) {
        state.outbox_wakeup.notify_one();
    }
    Ok(outcome)
}

/// Whether a case's app counts as open, seen last at `seen`: an open app uploads a fix every
/// `report_every`, so it is open when it called within two of those and a little.
pub fn app_open(seen: jiff::Timestamp, now: jiff::Timestamp, report_every: SignedDuration) -> bool {
    now.duration_since(seen) <= report_every * 2 + SignedDuration::from_secs(30)
}

/// Evaluates every monitored case now, draws, announces and judges check-ins with the
/// configured settings; returns how many flags were raised.
pub async fn sweep(state: &AppState) -> propusk_store::Result<u32> {
    let raised = state
        .store
        .sweep_monitoring(
            state.clock.now(),
            &geofence_config(),
            &state.monitoring.checkins,
            &sms_texts(&state.app_url()),
        )
        .await?;
    if raised > 0 {
        state.outbox_wakeup.notify_one();
    }
    Ok(raised)
}

/// Erases location reports of days that ended more than the configured retention ago
/// (whole days; see `propusk_store::retain_location_days`), then the remaining raw
/// locations, homes and photos of cases closed more than the retention ago; returns how
/// many cases were purged.
pub async fn purge(state: &AppState) -> propusk_store::Result<u32> {
    let days = state
        .store
        .retain_location_days(state.clock.now(), state.monitoring.retention)
        .await?;
    if days.partitions_dropped > 0 || days.rows_deleted > 0 {
        tracing::info!(
            partitions = days.partitions_dropped,
            rows = days.rows_deleted,
            batches = days.batches,
            longest_hold_ms = days.longest_hold.as_millis() as u64,
            "location reports past retention erased"
        );
    }
    let purged = state
        .store
        .purge_monitoring(state.clock.now(), state.monitoring.retention)
        .await?;
    if purged > 0 {
        tracing::info!(purged, "monitoring data past retention erased");
    }
    Ok(purged)
}
