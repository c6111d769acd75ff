//! Moments and spans as people read them, on the regime's clocks without naming the zone:
//! «четверг, 23 апреля, 10:15», «весь день 4 декабря», "23 April, 10:15–13:15".

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::lang::Lang;

const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS_RU: [&str; 7] = [
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// "4 декабря" / "4 December".
pub fn day(date: Date, lang: Lang) -> String {
    let month = usize::from(date.month().unsigned_abs()) - 1;
    match lang {
        Lang::Ru => format!("{} {}", date.day(), MONTHS_RU[month]),
        Lang::En => format!("{} {}", date.day(), MONTHS_EN[month]),
    }
}

/// "четверг, 23 апреля" / "Thursday 23 April".
pub fn weekday_and_day(date: Date, lang: Lang) -> String {
    let weekday = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
    match lang {
        Lang::Ru => format!("{}, {}", WEEKDAYS_RU[weekday], day(date, lang)),
        Lang::En => format!("{} {}", WEEKDAYS_EN[weekday], day(date, lang)),
    }
}

fn clock(z: &Zoned) -> String {
    z.strftime("%H:%M").to_string()
}

/// "23 апреля, 10:15" / "23 April, 10:15".
pub fn moment(t: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let z = t.to_zoned(tz.clone());
    format!("{}, {}", day(z.date(), lang), clock(&z))
}

/// "четверг, 23 апреля, 10:15" / "Thursday 23 April, 10:15": for a moment days away.
pub fn moment_with_weekday(t: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let z = t.to_zoned(tz.clone());
    format!("{}, {}", weekday_and_day(z.date(), lang), clock(&z))
}

fn is_midnight(z: &Zoned) -> bool {
    z.hour() == 0 && z.minute() == 0 && z.second() == 0
}

/// When a pass is valid, `[from, until)`: «весь день 4 декабря», «4 декабря, 10:15–13:15»,
/// «4 декабря, с 10:15 до конца дня», «с 4 декабря, 22:00, до 5 декабря, 01:00».
pub fn span(from: Timestamp, until: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let (a, b) = (from.to_zoned(tz.clone()), until.to_zoned(tz.clone()));
    let last = b.date().yesterday().ok();
    let ends_at_midnight = is_midnight(&b) && last == Some(a.date());
    if ends_at_midnight && is_midnight(&a) {
        return match lang {
            Lang::Ru => format!("весь день {}", day(a.date(), lang)),
            Lang::En => format!("all day on {}", day(a.date(), lang)),
        };
    }
    if ends_at_midnight {
        return match lang {
            Lang::Ru => format!("{}, с {} до конца дня", day(a.date(), lang), clock(&a)),
            Lang::En => format!(
                "{}, from {} to the end of the day",
                day(a.date(), lang),
                clock(&a)
            ),
        };
    }
    if a.date() == b.date() {
        return format!("{}, {}–{}", day(a.date(), lang), clock(&a), clock(&b));
    }
    match lang {
        Lang::Ru => format!(
            "с {} до {}",
            moment(from, tz, lang),
            moment(until, tz, lang)
        ),
        Lang::En => format!(
            "from {} to {}",
            moment(from, tz, lang),
            moment(until, tz, lang)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moscow() -> TimeZone {
        TimeZone::get("Europe/Moscow").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(moscow())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn spans_read_as_people_say_them() {
        let tz = moscow();
        let cases = [
            (
                "2026-12-04T00:00",
                "2026-12-05T00:00",
                "весь день 4 декабря",
                "all day on 4 December",
            ),
            (
                "2026-12-04T10:15",
                "2026-12-04T13:15",
                "4 декабря, 10:15–13:15",
                "4 December, 10:15–13:15",
            ),
            (
                "2026-12-04T10:15",
                "2026-12-05T00:00",
                "4 декабря, с 10:15 до конца дня",
                "4 December, from 10:15 to the end of the day",
            ),
            (
                "2026-12-04T22:00",
                "2026-12-05T01:00",
                "с 4 декабря, 22:00 до 5 декабря, 01:00",
                "from 4 December, 22:00 to 5 December, 01:00",
            ),
        ];
        for (from, until, ru, en) in cases {
            assert_eq!(span(at(from), at(until), &tz, Lang::Ru), ru);
            assert_eq!(span(at(from), at(until), &tz, Lang::En), en);
        }
        assert_eq!(
            moment_with_weekday(at("2020-04-23T10:15"), &tz, Lang::Ru),
            "четверг, 23 апреля, 10:15"
        );
        assert_eq!(
            moment_with_weekday(at("2020-04-23T10:15"), &tz, Lang::En),
            "Thursday 23 April, 10:15"
        );
    }
}
