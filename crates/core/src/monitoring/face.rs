//! Comparing a check-in photo with the reference photo taken at enrollment.
//!
//! A health officer compares the two side by side. [`FaceMatcher`] is where an automatic
//! matcher would plug in later; none is claimed now, so the service runs with
//! [`OfficerCompares`], which leaves every pair to a person. Even a future matcher only
//! advises: its opinion is shown to the officer next to the photos, and nothing it says is a
//! flag or a sanction by itself.

use serde::Serialize;

/// What a matcher made of a pair of photos.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum FaceComparison {
    /// No automatic opinion: an officer compares the photos.
    NotAssessed,
    /// The matcher thinks it is the same person (`score` from 0 to 1, the matcher's own scale).
    Similar {
        /// The matcher's confidence.
        score: f32,
    },
    /// The matcher thinks it is someone else, or no face is visible.
    Different {
        /// The matcher's confidence.
        score: f32,
    },
}

/// Compares a check-in photo with the case's reference photo.
pub trait FaceMatcher: Send + Sync {
    /// A short name shown to officers beside the opinion (e.g. the model and its version).
    fn name(&self) -> &'static str;

    /// Whether [`Self::compare`] can ever give an opinion; when not, callers need not load
    /// the photos to ask.
    fn is_automatic(&self) -> bool {
        true
    }

    /// The opinion on one pair; `reference` is the enrollment photo, `answer` the check-in's.
    /// Both are the stored image bytes (JPEG, PNG or WebP).
    fn compare(&self, reference: &[u8], answer: &[u8]) -> FaceComparison;
}

/// No automatic matching: every check-in photo is for an officer to compare.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfficerCompares;

impl FaceMatcher for OfficerCompares {
    fn name(&self) -> &'static str {
        "officer"
    }

    fn is_automatic(&self) -> bool {
        false
    }

    fn compare(&self, _reference: &[u8], _answer: &[u8]) -> FaceComparison {
        FaceComparison::NotAssessed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_matcher_every_pair_goes_to_an_officer() {
        let m: &dyn FaceMatcher = &OfficerCompares;
        assert_eq!(m.compare(b"a", b"a"), FaceComparison::NotAssessed);
        assert_eq!(
            serde_json::to_value(m.compare(b"a", b"b")).unwrap(),
            serde_json::json!({"result": "not_assessed"})
        );
    }

    #[test]
    fn an_opinion_serialises_with_its_score() {
        assert_eq!(
            serde_json::to_value(FaceComparison::Similar { score: 0.5 }).unwrap(),
            serde_json::json!({"result": "similar", "score": 0.5})
        );
    }
}
