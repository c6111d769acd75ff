//! A loaner phone's life, for patients without a phone of their own:
//! `in_stock` → `on_loan` → `returned` → `wiped` (lendable again), or `lost` from loan or
//! return. Each step names the states it may start from, so a phone is never lent before it
//! was wiped, nor wiped while a patient still has it.

/// Where a loaner phone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanerState {
    /// Never lent.
    InStock,
    /// With a patient, enrolled (or about to enroll) in their case.
    OnLoan,
    /// Back from the patient; not lendable until wiped.
    Returned,
    /// Wiped after a return: lendable again.
    Wiped,
    /// Gone for good.
    Lost,
}

crate::wire_names!(LoanerState {
    InStock => "in_stock",
    OnLoan => "on_loan",
    Returned => "returned",
    Wiped => "wiped",
    Lost => "lost",
});

/// Something an officer does with a loaner phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanerStep {
    /// Hand it to a patient of an active case.
    Lend,
    /// Take it back from the patient.
    Return,
    /// Record the wipe after a return (every one of [`WIPE_STEPS`] done).
    Wipe,
    /// Record it as lost.
    Lose,
}

/// What a wipe must have done before a phone is lent again.
pub const WIPE_STEPS: [&str; 3] = ["factory_reset", "token_removed", "accounts_removed"];

impl LoanerStep {
    /// The states this step may start from.
    pub fn from(self) -> &'static [LoanerState] {
        use LoanerState::*;
        match self {
            Self::Lend => &[InStock, Wiped],
            Self::Return => &[OnLoan],
            Self::Wipe => &[Returned],
            Self::Lose => &[OnLoan, Returned],
        }
    }

    /// The state this step leads to.
    pub fn to(self) -> LoanerState {
        match self {
            Self::Lend => LoanerState::OnLoan,
            Self::Return => LoanerState::Returned,
            Self::Wipe => LoanerState::Wiped,
            Self::Lose => LoanerState::Lost,
        }
    }

    /// The state after this step from `state`, or `Err(state)` when it may not be taken.
    pub fn apply(self, state: LoanerState) -> Result<LoanerState, LoanerState> {
        if self.from().contains(&state) {
            Ok(self.to())
        } else {
            Err(state)
        }
    }

    /// The name of the step in the audit log (`monitoring.loaner.{name}`).
    pub fn audit_name(self) -> &'static str {
        match self {
            Self::Lend => "lend",
            Self::Return => "returned",
            Self::Wipe => "wiped",
            Self::Lose => "lost",
        }
    }
}

/// The wipe steps not `done`; a wipe is refused unless this is empty.
pub fn missing_wipe_steps(done: impl Fn(&str) -> bool) -> Vec<&'static str> {
    WIPE_STEPS.into_iter().filter(|s| !done(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoanerState::*;

    #[test]
    fn a_phone_is_lent_again_only_after_a_wipe() {
        let mut state = InStock;
        for step in [LoanerStep::Lend, LoanerStep::Return] {
            state = step.apply(state).unwrap();
        }
        assert_eq!(LoanerStep::Lend.apply(state), Err(Returned));
        state = LoanerStep::Wipe.apply(state).unwrap();
        assert_eq!(LoanerStep::Lend.apply(state), Ok(OnLoan));
    }

    #[test]
    fn only_a_phone_out_of_stock_is_lost_and_a_lost_one_stays_lost() {
        assert_eq!(LoanerStep::Lose.apply(InStock), Err(InStock));
        assert_eq!(LoanerStep::Lose.apply(OnLoan), Ok(Lost));
        assert_eq!(LoanerStep::Lose.apply(Returned), Ok(Lost));
        for step in [
            LoanerStep::Lend,
            LoanerStep::Return,
            LoanerStep::Wipe,
            LoanerStep::Lose,
        ] {
            assert_eq!(step.apply(Lost), Err(Lost));
        }
    }

    #[test]
    fn a_wipe_needs_every_step() {
        assert_eq!(
            missing_wipe_steps(|s| s != "token_removed"),
            ["token_removed"]
        );
        assert!(missing_wipe_steps(|_| true).is_empty());
    }
}
