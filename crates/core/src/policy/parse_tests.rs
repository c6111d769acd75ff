//! Tests of `parse_regime`: a valid file, and every kind of error with its line.

use jiff::SignedDuration;

use super::*;
use PolicyErrorKind as K;

const VALID: &str = r#"
id = "test-regime"
issuer = "RU-MOW"
time_zone = "Europe/Moscow"
effective_from = 2020-04-15T00:00:00+03:00
until = "2020-06-09T00:00:00+03:00"
max_passes_per_day = 12

[name]
ru = "Тест"
en = "Test"

[legal_act]
title = "Act No. 1"
reference = "https://example.org/act-1"

[cap]
count = 3
per = "day"

[[purposes]]
id = "work"
sms_code = 1
name = { ru = "Работа", en = "Work" }
until_end_of_day = true
required_fields = ["employer_inn", "vehicle_plate"]

[[purposes]]
id = "night_walk"
sms_code = 2
name = { ru = "Ночная прогулка", en = "Night walk" }
max_minutes = 45
quota = { count = 2, per = "36h" }
hours = { from = "22:00", to = "06:00" }
max_distance_m = 500

[[purposes]]
id = "emergency"
sms_code = 9
name = { ru = "Экстренно", en = "Emergency" }
max_minutes = 120
always_allowed = true
"#;

/// (line, kind) of every error, in order.
fn errors(text: &str) -> Vec<(usize, PolicyErrorKind)> {
    match parse_regime(text) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => {
            for e in &errors {
                println!("{e}");
            }
            errors.iter().map(|e| (e.line, e.kind)).collect()
        }
    }
}

/// `VALID` with one line replaced (1-based line numbers as in the file).
fn with_line(line: usize, replacement: &str) -> String {
    let mut lines: Vec<&str> = VALID.split('\n').collect();
    lines[line - 1] = replacement;
    lines.join("\n")
}

fn line_of(needle: &str) -> usize {
    VALID
        .split('\n')
        .position(|l| l.contains(needle))
        .map(|k| k + 1)
        .unwrap_or_else(|| panic!("{needle} not in VALID"))
}

#[test]
fn a_valid_regime_parses_in_full() {
    let r = parse_regime(VALID).unwrap();
    assert_eq!(r.id(), "test-regime");
    assert_eq!(r.name().en, "Test");
    assert_eq!(
        r.legal_act().reference.as_deref(),
        Some("https://example.org/act-1")
    );
    assert_eq!(r.effective_from(), "2020-04-14T21:00:00Z".parse().unwrap());
    assert_eq!(r.until(), Some("2020-06-08T21:00:00Z".parse().unwrap()));
    assert_eq!(
        r.cap().map(|c| (c.count(), c.window())),
        Some((3, Window::Day))
    );
    assert_eq!(r.max_passes_per_day(), 12);
    assert_eq!(
        (r.ceiling().count(), r.ceiling().window()),
        (12, Window::Day)
    );
    let walk = r.purpose("night_walk").unwrap();
    assert_eq!(walk.duration(), MaxDuration::Minutes(45));
    assert_eq!(
        walk.quota().map(|q| q.window()),
        Some(Window::Rolling(SignedDuration::from_hours(36)))
    );
    let hours = walk.hours().unwrap();
    assert!(hours.wraps_midnight());
    assert_eq!(hours.describe(), "22:00–06:00");
    assert_eq!(walk.max_distance_m(), Some(500));
    let work = r.purpose("work").unwrap();
    assert_eq!(
        work.required_fields(),
        [FieldKind::EmployerInn, FieldKind::VehiclePlate]
    );
    assert!(r.purpose("emergency").unwrap().always_allowed());
    assert!(!work.always_allowed());
}

#[test]
fn syntax_errors_have_lines() {
    let text = with_line(line_of("count = 3"), "count = = 3");
    assert_eq!(errors(&text), [(line_of("count = 3"), K::Syntax)]);
    let text = format!("{VALID}\n[[purposes]\n");
    let found = errors(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0], (VALID.split('\n').count() + 1, K::Syntax));
    let e = &parse_regime(&text).unwrap_err()[0];
    assert!(e
        .to_string()
        .starts_with(&format!("line {}, column ", e.line)));
}

#[test]
fn duplicate_keys_are_syntax_errors() {
    let text = VALID.replace("max_minutes = 45\n", "max_minutes = 45\nmax_minutes = 50\n");
    assert_eq!(
        errors(&text),
        [(line_of("max_minutes = 45") + 1, K::Syntax)]
    );
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let text = VALID
        .replace("issuer = \"RU-MOW\"", "issuer = \"moscow\"")
        .replace("Europe/Moscow", "Europe/Moskow")
        .replace("sms_code = 9", "sms_code = 1")
        .replace("per = \"36h\"", "per = \"fortnight\"");
    assert_eq!(
        errors(&text),
        [
            (line_of("issuer"), K::InvalidValue),
            (line_of("time_zone"), K::UnknownTimeZone),
            (line_of("36h"), K::InvalidValue),
            (line_of("sms_code = 9"), K::DuplicateSmsCode),
        ]
    );
}

#[test]
fn missing_keys() {
    // A missing top-level key is reported at the top of the file.
    let text = with_line(line_of("issuer"), "");
    assert_eq!(errors(&text), [(1, K::MissingKey)]);
    // A missing key in a table is reported at the table's header.
    let text = with_line(line_of("title = "), "");
    assert_eq!(errors(&text), [(line_of("[legal_act]"), K::MissingKey)]);
    // A purpose without a duration.
    let text = with_line(line_of("max_minutes = 45"), "");
    let found = errors(&text);
    assert_eq!(found, [(line_of("id = \"night_walk\"") - 1, K::MissingKey)]);
    let message = &parse_regime(&text).unwrap_err()[0].message;
    assert!(message.contains("expected max_minutes"), "{message}");
    // A purpose without a name, in an inline table.
    let text = with_line(
        line_of("en = \"Night walk\""),
        "name = { ru = \"Ночная прогулка\" }",
    );
    assert_eq!(errors(&text), [(line_of("Night walk"), K::MissingKey)]);
}

#[test]
fn unknown_keys_name_the_expected_ones() {
    let text = with_line(line_of("max_distance_m"), "max_distance = 500");
    assert_eq!(errors(&text), [(line_of("max_distance_m"), K::UnknownKey)]);
    let message = &parse_regime(&text).unwrap_err()[0].message;
    assert!(message.contains("purposes[1].max_distance"), "{message}");
    assert!(message.contains("max_distance_m"), "{message}");
}

#[test]
fn wrong_types() {
    let text = with_line(line_of("sms_code = 2"), "sms_code = \"2\"");
    assert_eq!(errors(&text), [(line_of("sms_code = 2"), K::WrongType)]);
    let text = with_line(line_of("always_allowed"), "always_allowed = \"yes\"");
    assert_eq!(errors(&text), [(line_of("always_allowed"), K::WrongType)]);
    let text = with_line(line_of("effective_from"), "effective_from = 20200415");
    assert_eq!(errors(&text), [(line_of("effective_from"), K::WrongType)]);
}

#[test]
fn values_out_of_range() {
    for (needle, replacement) in [
        ("sms_code = 2", "sms_code = 10"),
        ("sms_code = 2", "sms_code = 0"),
        ("max_minutes = 45", "max_minutes = 0"),
        ("hours = ", "hours = { from = \"22:00\", to = \"22:00\" }"),
        ("hours = ", "hours = { from = \"25:00\", to = \"06:00\" }"),
        ("quota = ", "quota = { count = 0, per = \"day\" }"),
        ("quota = ", "quota = { count = 1, per = \"32d\" }"),
        ("max_distance_m", "max_distance_m = -5"),
        ("id = \"night_walk\"", "id = \"Night Walk\""),
        ("effective_from", "effective_from = 2020-04-15T00:00:00"),
        ("effective_from", "effective_from = 1999-04-15T00:00:00Z"),
        ("ru = \"Тест\"", "ru = \"  \""),
        ("max_passes_per_day", "max_passes_per_day = 0"),
        ("max_passes_per_day", "max_passes_per_day = 101"),
    ] {
        let text = with_line(line_of(needle), replacement);
        assert_eq!(
            errors(&text),
            [(line_of(needle), K::InvalidValue)],
            "{replacement}"
        );
    }
    let text = with_line(line_of("sms_code = 2"), "sms_code = 12");
    let message = &parse_regime(&text).unwrap_err()[0].message;
    assert!(message.contains("expected a single digit 1–9"), "{message}");
}

#[test]
fn the_ceiling_defaults_to_twenty_and_is_bounded() {
    let text = with_line(line_of("max_passes_per_day"), "");
    assert_eq!(
        parse_regime(&text).unwrap().max_passes_per_day(),
        DEFAULT_MAX_PASSES_PER_DAY
    );
    let text = with_line(line_of("max_passes_per_day"), "max_passes_per_day = 500");
    let message = &parse_regime(&text).unwrap_err()[0].message;
    assert!(
        message.contains("a number of passes from 1 to 100"),
        "{message}"
    );
    let text = with_line(line_of("max_passes_per_day"), "max_passes_per_day = \"20\"");
    assert_eq!(
        errors(&text),
        [(line_of("max_passes_per_day"), K::WrongType)]
    );
}

#[test]
fn duplicates() {
    let text = with_line(line_of("id = \"emergency\""), "id = \"work\"");
    assert_eq!(
        errors(&text),
        [(line_of("id = \"emergency\""), K::DuplicatePurposeId)]
    );
    let message = &parse_regime(&text).unwrap_err()[0].message;
    assert!(
        message.contains(&format!("line {}", line_of("id = \"work\""))),
        "{message}"
    );

    let text = with_line(line_of("sms_code = 9"), "sms_code = 2");
    assert_eq!(
        errors(&text),
        [(line_of("sms_code = 9"), K::DuplicateSmsCode)]
    );

    let text = with_line(
        line_of("required_fields"),
        "required_fields = [\"employer_inn\", \"employer_inn\"]",
    );
    assert_eq!(
        errors(&text),
        [(line_of("required_fields"), K::DuplicateEntry)]
    );
}

#[test]
fn unknown_time_zone_and_fields() {
    let text = with_line(line_of("time_zone"), "time_zone = \"Moscow\"");
    assert_eq!(errors(&text), [(line_of("time_zone"), K::UnknownTimeZone)]);
    let text = with_line(line_of("required_fields"), "required_fields = [\"inn\"]");
    assert_eq!(
        errors(&text),
        [(line_of("required_fields"), K::UnknownRequiredField)]
    );
    let message = &parse_regime(&text).unwrap_err()[0].message;
    assert!(message.contains("employer_inn"), "{message}");
}

#[test]
fn until_must_follow_effective_from() {
    let text = with_line(line_of("until"), "until = 2020-04-15T00:00:00+03:00");
    assert_eq!(errors(&text), [(line_of("until"), K::EndsBeforeStart)]);
    let text = with_line(line_of("until"), "until = 2020-04-01T00:00:00+03:00");
    assert_eq!(errors(&text), [(line_of("until"), K::EndsBeforeStart)]);
}

#[test]
fn conflicts() {
    let text = VALID.replace("max_minutes = 120\n", "max_minutes = 120\nquota = { count = 1, per = \"day\" }\nhours = { from = \"08:00\", to = \"09:00\" }\n");
    let base = line_of("max_minutes = 120");
    assert_eq!(
        errors(&text),
        [(base + 1, K::Conflict), (base + 2, K::Conflict)]
    );
    let text = VALID.replace(
        "until_end_of_day = true\n",
        "until_end_of_day = true\nmax_minutes = 60\n",
    );
    assert_eq!(errors(&text), [(line_of("until_end_of_day"), K::Conflict)]);
}

#[test]
fn no_purposes() {
    let head = VALID.split("[[purposes]]").next().unwrap();
    assert_eq!(errors(head), [(1, K::MissingKey)]);
    let text = format!("purposes = []\n{head}");
    assert_eq!(errors(&text), [(1, K::InvalidValue)]);
}

#[test]
fn duplicates_are_found_in_purposes_with_other_errors() {
    let text = VALID
        .replace("id = \"emergency\"", "id = \"night_walk\"")
        .replace("sms_code = 9", "sms_code = 2")
        .replace("max_minutes = 120", "max_minutes = 0")
        .replace("max_minutes = 45", "max_minutes = \"45\"");
    assert_eq!(
        errors(&text),
        [
            (line_of("max_minutes = 45"), K::WrongType),
            (line_of("id = \"emergency\""), K::DuplicatePurposeId),
            (line_of("sms_code = 9"), K::DuplicateSmsCode),
            (line_of("max_minutes = 120"), K::InvalidValue),
        ]
    );
}
