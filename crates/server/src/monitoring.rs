//! Quarantine monitoring's background side: the periodic sweep that notices silence (a
//! dead phone sends nothing, so nothing else would ever evaluate its case), the retention
//! purge (raw locations and the home are erased 30 days after a case closes; only counts
//! remain), and the patient SMS texts the store queues. The HTTP side is `routes::monitoring`.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::SignedDuration;
use propusk_core::monitoring::case::PatientSms;
use propusk_core::monitoring::checkins::CheckinConfig;
use propusk_core::monitoring::geofence::GeofenceConfig;
use tokio::sync::watch;

use crate::state::AppState;

/// How often every monitored case is evaluated for silence. A `no_signal` flag needs two
/// hours of silence, so a minute's delay in noticing it does not matter.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A patient SMS in Russian on the case's clocks (cases carry no language; the patient's
/// phone number is Russian).
pub fn sms_text(sms: &PatientSms, time_zone: &str) -> String {
    let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    propusk_sms::monitoring::patient(propusk_sms::Lang::Ru, &tz, sms)
}

/// The geofence parameters the service evaluates with (the simulator's measured defaults).
pub fn geofence_config() -> GeofenceConfig {
    GeofenceConfig::default()
}

/// Evaluates every monitored case now, draws and judges check-ins (the core's defaults:
/// 09:00–21:00 local, three a day, 20 minutes to answer); returns how many flags were raised.
pub async fn sweep(state: &AppState) -> propusk_store::Result<u32> {
    let raised = state
        .store
        .sweep_monitoring(
            state.clock.now(),
            &geofence_config(),
            &CheckinConfig::default(),
            &sms_text,
        )
        .await?;
    if raised > 0 {
        state.outbox_wakeup.notify_one();
    }
    Ok(raised)
}

/// How long a closed case keeps its raw locations and home before they are erased.
pub const RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Erases the raw locations and homes of cases closed more than `retention` ago; returns how
/// many cases were purged.
pub async fn purge(state: &AppState, retention: SignedDuration) -> propusk_store::Result<u32> {
    let purged = state
        .store
        .purge_monitoring(state.clock.now(), retention)
        .await?;
    if purged > 0 {
        tracing::info!(purged, "monitoring data past retention erased");
    }
    Ok(purged)
}

pub fn spawn_sweeper(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "cannot evaluate monitored cases");
            }
            if let Err(e) = purge(&state, RETENTION).await {
                tracing::warn!(error = %e, "cannot erase monitoring data past retention");
            }
        }
    })
}
