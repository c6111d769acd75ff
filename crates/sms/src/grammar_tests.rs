//! The grammar against messages as people really type them.

use super::*;

fn pass(code: u32) -> Command {
    Command::Pass(PassAsk {
        code: Some(code),
        keyword: true,
        ..PassAsk::default()
    })
}

fn bare(code: u32) -> Command {
    Command::Pass(PassAsk {
        code: Some(code),
        keyword: false,
        ..PassAsk::default()
    })
}

fn with_fields(code: u32, fields: &[&str]) -> Command {
    Command::Pass(PassAsk {
        code: Some(code),
        keyword: true,
        fields: fields.iter().map(|s| s.to_string()).collect(),
        ..PassAsk::default()
    })
}

fn reg(fields: &[&str]) -> Command {
    Command::Register {
        fields: fields.iter().map(|s| s.to_string()).collect(),
    }
}

#[track_caller]
fn check(text: &str, command: Command, lang: Option<Lang>) {
    let parsed = parse(text);
    assert_eq!(parsed.command, command, "message {text:?}");
    assert_eq!(parsed.lang, lang, "language of {text:?}");
}

const RU: Option<Lang> = Some(Lang::Ru);
const EN: Option<Lang> = Some(Lang::En);

#[test]
fn pass_requests_in_every_spelling() {
    check("ПРОПУСК 3", pass(3), RU);
    check("пропуск*3", pass(3), RU);
    check("Пропуск*3", pass(3), RU);
    check("ПрОпУсК 3", pass(3), RU);
    check("  ПРОПУСК   3  ", pass(3), RU);
    check("ПРОПУСК#3#", pass(3), RU);
    check("ПРОПУСК**3", pass(3), RU);
    check("ПРОПУСК,3", pass(3), RU);
    check("ПРОПУСК3", pass(3), RU);
    check("пропуск-3", pass(3), RU);
    check("ПРОПУСК №3", pass(3), RU);
    check("ПРОПУСК 03", pass(3), RU);
    check("ПРОПУСК три", pass(3), RU);
    check("ПРОПУСК 3.", pass(3), RU);
    check("ПРОПУСК 3 🙏", pass(3), RU);
    check("ПРОПУСК\n3", pass(3), RU);
    check("PASS 3", pass(3), EN);
    check("pass*3", pass(3), EN);
    check("Pass #3", pass(3), EN);
    check("PERMIT 4", pass(4), EN);
    check("PROPUSK 3", pass(3), RU);
    check("propusk*3", pass(3), RU);
    check("ЦЕЛЬ 8", pass(8), RU);
    check("цель*8", pass(8), RU);
}

#[test]
fn look_alikes_and_typos_in_the_keyword() {
    // Latin P, O, C in a Cyrillic word; a zero for O.
    check("ПPОПУСК 3", pass(3), RU);
    check("ПРОПУCК 3", pass(3), RU);
    check("ПР0ПУСК 3", pass(3), RU);
    // Typos: a letter missing, extra, wrong, swapped.
    check("ПРОПУК 3", pass(3), RU);
    check("ПРОПУСКК 3", pass(3), RU);
    check("ПРАПУСК 3", pass(3), RU);
    check("ПРОПСУК 3", pass(3), RU);
    check("ПРОПУСКА 3", pass(3), RU);
    check("PAS 3", pass(3), EN);
    check("PASSS 3", pass(3), EN);
    // A keyword broken in two.
    check("ПРО ПУСК 3", pass(3), RU);
}

#[test]
fn bare_codes_from_registered_phones() {
    check("3", bare(3), None);
    check(" 5 ", bare(5), None);
    check("3.", bare(3), None);
    check(
        "1*7707083893",
        Command::Pass(PassAsk {
            code: Some(1),
            fields: vec!["7707083893".into()],
            ..PassAsk::default()
        }),
        None,
    );
}

#[test]
fn fields_and_start_times() {
    check("ПРОПУСК*1*7707083893", with_fields(1, &["7707083893"]), RU);
    check("ПРОПУСК 1 7707083893", with_fields(1, &["7707083893"]), RU);
    check("PASS#1#7707083893", with_fields(1, &["7707083893"]), EN);
    check(
        "ПРОПУСК 3 18:30",
        Command::Pass(PassAsk {
            code: Some(3),
            start: Some((18, 30)),
            keyword: true,
            ..PassAsk::default()
        }),
        RU,
    );
    check(
        "ПРОПУСК*3*9.05",
        Command::Pass(PassAsk {
            code: Some(3),
            start: Some((9, 5)),
            keyword: true,
            ..PassAsk::default()
        }),
        RU,
    );
    // 25:00 is not a time: kept as a field for the server to refuse.
    check("ПРОПУСК 3 25:00", with_fields(3, &["25:00"]), RU);
}

#[test]
fn purpose_named_in_words_or_missing() {
    check(
        "ПРОПУСК на магазин",
        Command::Pass(PassAsk {
            words: vec!["МАГАЗИН".into()],
            keyword: true,
            ..PassAsk::default()
        }),
        RU,
    );
    check(
        "ПРОПУСК",
        Command::Pass(PassAsk {
            keyword: true,
            ..PassAsk::default()
        }),
        RU,
    );
    check(
        "ПРОПУСК 7707083893",
        Command::Pass(PassAsk {
            fields: vec!["7707083893".into()],
            keyword: true,
            ..PassAsk::default()
        }),
        RU,
    );
}

#[test]
fn politeness_is_skipped() {
    check("Здравствуйте, пропуск 3", pass(3), RU);
    check("Пожалуйста ПРОПУСК 3", pass(3), RU);
    check("Дайте пропуск 4", pass(4), RU);
    check("please pass 3", pass(3), EN);
    check("Hello! HELP", Command::Help, EN);
}

#[test]
fn cancel_status_help() {
    let cancel = |c: &str| Command::Cancel {
        code: Some(c.to_string()),
    };
    check("ОТМЕНА 7K3-QX9-4MM", cancel("7K3QX94MM"), RU);
    check("отмена*7k3qx94mm", cancel("7k3qx94mm"), RU);
    check("ОТМЕНИТЬ 7K3 QX9 4MM", cancel("7K3QX94MM"), RU);
    check("CANCEL 7K3-QX9-4MM", cancel("7K3QX94MM"), EN);
    check("OTMENA 7K3QX94MM", cancel("7K3QX94MM"), RU);
    check("ОТМЕНА", Command::Cancel { code: None }, RU);
    check("СТАТУС", Command::Status, RU);
    check("статус", Command::Status, RU);
    check("CTATYC", Command::Status, RU);
    check("STATUS", Command::Status, EN);
    check("СТАТС", Command::Status, RU);
    check("ПОМОЩЬ", Command::Help, RU);
    check("помошь", Command::Help, RU);
    check("СПРАВКА", Command::Help, RU);
    check("HELP", Command::Help, EN);
    check("help me", Command::Help, EN);
    check("?", Command::Help, None);
    check(" ?? ", Command::Help, None);
    check("INFO", Command::Help, EN);
}

#[test]
fn registration_in_every_layout() {
    check(
        "РЕГИСТРАЦИЯ#Иванов Иван Иванович#4510123456",
        reg(&["Иванов Иван Иванович", "4510123456"]),
        RU,
    );
    check(
        "регистрация*Иванов Иван Иванович*4510 123456",
        reg(&["Иванов Иван Иванович", "4510 123456"]),
        RU,
    );
    check(
        "РЕГИСТРАЦИЯ Иванов Иван Иванович 4510 123456",
        reg(&["Иванов Иван Иванович", "4510 123456"]),
        RU,
    );
    check(
        "РЕГ#Петрова Анна#4510123456#Москва, ул. Тверская, д. 1",
        reg(&["Петрова Анна", "4510123456", "Москва, ул. Тверская, д. 1"]),
        RU,
    );
    check(
        "РЕГИСТРАЦИЯ#4510123456#Иванов Иван",
        reg(&["Иванов Иван", "4510123456"]),
        RU,
    );
    check(
        "РИГИСТРАЦИЯ#Иванов Иван#4510123456",
        reg(&["Иванов Иван", "4510123456"]),
        RU,
    );
    check(
        "REGISTER#Smith John#AB1234567",
        reg(&["Smith John", "AB1234567"]),
        EN,
    );
    check(
        "REGISTRACIYA Ivanov Ivan 4510123456",
        reg(&["Ivanov Ivan", "4510123456"]),
        RU,
    );
    check(
        "РЕГИСТРАЦИЯ Петров Петя IV-МЮ 123456",
        reg(&["Петров Петя", "IV-МЮ 123456"]),
        RU,
    );
    check("РЕГИСТРАЦИЯ", reg(&[]), RU);
    check(
        "РЕГИСТРАЦИЯ:Иванов Иван#4510123456",
        reg(&["Иванов Иван", "4510123456"]),
        RU,
    );
}

#[test]
fn short_codes_alone() {
    let code: ShortCode = propusk_token::ShortCode::generate(&mut propusk_token::rand_core::OsRng);
    let shown = code.to_string();
    assert_eq!(parse(&shown).command, Command::ShortCode(code));
    assert_eq!(
        parse(&shown.to_lowercase()).command,
        Command::ShortCode(code)
    );
    assert_eq!(
        parse(&shown.replace('-', " ")).command,
        Command::ShortCode(code)
    );
}

#[test]
fn what_is_not_understood() {
    check("", Command::Empty, None);
    check("   \n ", Command::Empty, None);
    check("🙂🙂🙂", Command::Unknown, None);
    check("Привет", Command::Unknown, RU);
    check("hello", Command::Unknown, EN);
    check("Когда закончится карантин?", Command::Unknown, RU);
    check("ПРОПУСТИТЕ МЕНЯ", Command::Unknown, RU);
    check("7707083893", Command::Unknown, None);
    check("123", Command::Unknown, None);
    check("-3", bare(3), None);
    check(&"а".repeat(2000), Command::Unknown, RU);
    check(
        &"ПРОПУСК 3 ".repeat(100),
        with_fields(3, &["ПРОПУСК", "3"].repeat(99)),
        RU,
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// No input makes the parser panic.
    #[test]
    fn never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_near_misses(text in "[ПРОПУСКПОМЩЬРЕГИСТАЦЯ0-9*# №:.-]{0,40}") {
        let _ = parse(&text);
    }
}
