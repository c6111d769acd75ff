//! Realistic synthetic Muscovites for benchmarks and demos: Russian names in the right
//! gender forms, passports with Moscow series, Moscow mobile numbers, addresses and homes
//! inside the city, employers' taxpayer numbers (ИНН). Every value is made through the
//! domain's own parser (`propusk_core::domain`), so a generator bug fails loudly instead of
//! loading data the service would refuse.
//!
//! Deterministic: the same seed and index give the same resident. Phone numbers are unique
//! by construction (an index maps to a number through a bijection), so millions can be made
//! without remembering the ones already given.

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, Inn, PhoneNumber};

/// splitmix64: small, fast, and good enough for synthetic data.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Moscow mobile operators' prefixes (9xx).
const PREFIXES: [&str; 16] = [
    "903", "905", "906", "909", "910", "915", "916", "917", "925", "926", "929", "965", "968",
    "977", "985", "999",
];
/// Numbers per prefix.
const PER_PREFIX: u64 = 10_000_000;

/// Surnames in their male form; the female form adds `а` (Иванов → Иванова) except for
/// those ending in -ий/-ой (Толстой → Толстая), listed apart.
const SURNAMES: [&str; 48] = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
];
const SURNAMES_IY: [(&str, &str); 6] = [
    ("Толстой", "Толстая"),
    ("Островский", "Островская"),
    ("Чайковский", "Чайковская"),
    ("Вишневский", "Вишневская"),
    ("Луговской", "Луговская"),
    ("Ржевский", "Ржевская"),
];
const MALE_NAMES: [&str; 24] = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Никита",
    "Матвей",
    "Роман",
    "Егор",
    "Арсений",
    "Иван",
    "Денис",
    "Евгений",
    "Тимофей",
    "Владимир",
    "Павел",
    "Олег",
    "Николай",
    "Юрий",
];
const FEMALE_NAMES: [&str; 24] = [
    "Анастасия",
    "Мария",
    "Анна",
    "Виктория",
    "Екатерина",
    "Наталья",
    "Марина",
    "Полина",
    "София",
    "Дарья",
    "Алиса",
    "Ксения",
    "Александра",
    "Елена",
    "Ольга",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Юлия",
    "Людмила",
    "Галина",
    "Вера",
    "Надежда",
    "Валентина",
];
/// Fathers' names and their patronymics: (son, daughter).
const PATRONYMICS: [(&str, &str); 20] = [
    ("Александрович", "Александровна"),
    ("Дмитриевич", "Дмитриевна"),
    ("Сергеевич", "Сергеевна"),
    ("Андреевич", "Андреевна"),
    ("Алексеевич", "Алексеевна"),
    ("Иванович", "Ивановна"),
    ("Михайлович", "Михайловна"),
    ("Николаевич", "Николаевна"),
    ("Владимирович", "Владимировна"),
    ("Петрович", "Петровна"),
    ("Викторович", "Викторовна"),
    ("Юрьевич", "Юрьевна"),
    ("Олегович", "Олеговна"),
    ("Евгеньевич", "Евгеньевна"),
    ("Игоревич", "Игоревна"),
    ("Павлович", "Павловна"),
    ("Васильевич", "Васильевна"),
    ("Геннадьевич", "Геннадьевна"),
    ("Анатольевич", "Анатольевна"),
    ("Борисович", "Борисовна"),
];
const STREETS: [&str; 40] = [
    "ул. Тверская",
    "ул. Арбат",
    "Ленинский пр-т",
    "пр-т Мира",
    "Кутузовский пр-т",
    "ул. Профсоюзная",
    "Варшавское ш.",
    "Дмитровское ш.",
    "ул. Большая Якиманка",
    "ул. Маросейка",
    "ул. Покровка",
    "ул. Новый Арбат",
    "Ленинградский пр-т",
    "ул. Сретенка",
    "Каширское ш.",
    "ул. Бутлерова",
    "ул. Вавилова",
    "ул. Гарибальди",
    "ул. Удальцова",
    "Мичуринский пр-т",
    "ул. Народного Ополчения",
    "ул. Маршала Жукова",
    "Рязанский пр-т",
    "ул. Первомайская",
    "Щёлковское ш.",
    "ул. Бориса Галушкина",
    "ул. Академика Королёва",
    "ул. Шаболовка",
    "ул. Люблинская",
    "ул. Братиславская",
    "Волгоградский пр-т",
    "ул. Кировоградская",
    "Севастопольский пр-т",
    "ул. Островитянова",
    "ул. Миклухо-Маклая",
    "Хорошёвское ш.",
    "ул. Алабяна",
    "Чистопрудный б-р",
    "Гоголевский б-р",
    "Кривоколенный пер.",
];

/// One synthetic resident, every value parsed by the domain.
#[derive(Debug, Clone)]
pub struct Resident {
    pub phone: PhoneNumber,
    pub full_name: FullName,
    pub document: Document,
    pub address: String,
    pub home: GeoPoint,
}

/// The unique phone number of resident `index` (fewer than 160 million): a prefix, and a
/// number that an affine bijection modulo 10⁷ makes of the index.
pub fn phone(index: u64, seed: u64) -> PhoneNumber {
    let prefix = PREFIXES[(index % PREFIXES.len() as u64) as usize];
    let n = index / PREFIXES.len() as u64;
    assert!(n < PER_PREFIX, "at most 160 million synthetic phones");
    // 7_654_321 is coprime with 10⁷ (odd, not a multiple of 5): a bijection.
    let number = (n * 7_654_321 + seed % PER_PREFIX) % PER_PREFIX;
    PhoneNumber::parse(&format!("+7{prefix}{number:07}")).expect("a synthetic phone is valid")
}

/// Resident `index` of the population made with `seed`.
pub fn resident(index: u64, seed: u64) -> Resident {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
    let female = rng.below(2) == 0;
    let (surname, given, patronymic) = {
        let surname = if rng.below(10) == 0 {
            let (m, f) = *rng.pick(&SURNAMES_IY);
            if female { f } else { m }.to_string()
        } else {
            let m = *rng.pick(&SURNAMES);
            if female {
                format!("{m}а")
            } else {
                m.to_string()
            }
        };
        let given = if female {
            *rng.pick(&FEMALE_NAMES)
        } else {
            *rng.pick(&MALE_NAMES)
        };
        let (son, daughter) = *rng.pick(&PATRONYMICS);
        (surname, given, if female { daughter } else { son })
    };
    let full_name = FullName::parse(&format!("{surname} {given} {patronymic}"))
        .expect("a synthetic name is valid");
    let document = match rng.below(100) {
        // Internal passports: Moscow series 45 + the year of issue, then six digits.
        0..=96 => Document::parse(
            DocumentKind::PassportRu,
            &format!("45{:02} {:06}", rng.below(23), rng.below(1_000_000)),
        ),
        97..=98 => Document::parse(
            DocumentKind::ForeignPassportRu,
            &format!("7{} {:07}", 1 + rng.below(9), rng.below(10_000_000)),
        ),
        _ => Document::parse(
            DocumentKind::ForeignDocument,
            &format!(
                "{}{}{:07}",
                (b'A' + rng.below(26) as u8) as char,
                (b'A' + rng.below(26) as u8) as char,
                rng.below(10_000_000)
            ),
        ),
    }
    .expect("a synthetic document is valid");
    let address = format!(
        "Москва, {}, д. {}, кв. {}",
        rng.pick(&STREETS),
        1 + rng.below(150),
        1 + rng.below(400)
    );
    // Inside the Moscow Ring Road, roughly, to 7 decimals (about 1 cm) as a phone reports.
    let round = |x: f64| (x * 1e7).round() / 1e7;
    let home = GeoPoint::new(
        round(55.58 + 0.32 * rng.unit()),
        round(37.38 + 0.46 * rng.unit()),
    )
    .expect("a synthetic home is valid");
    Resident {
        phone: phone(index, seed),
        full_name,
        document,
        address,
        home,
    }
}

/// A Moscow organisation's taxpayer number (10 digits, region 77, check digit computed).
pub fn employer_inn(rng: &mut Rng) -> Inn {
    const WEIGHTS: [u64; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
    let mut digits = vec![7, 7];
    digits.extend((0..7).map(|_| rng.below(10)));
    let check = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum::<u64>() % 11 % 10;
    digits.push(check);
    let text: String = digits.iter().map(|d| char::from(b'0' + *d as u8)).collect();
    Inn::parse(&text).expect("a synthetic INN is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_unique_and_residents_repeatable() {
        let phones: std::collections::HashSet<String> = (0..100_000)
            .map(|i| phone(i, 7).as_str().to_string())
            .collect();
        assert_eq!(phones.len(), 100_000);
        assert!(phones.iter().all(|p| p.starts_with("+79")));
        let a = resident(42, 7);
        let b = resident(42, 7);
        assert_eq!(a.full_name, b.full_name);
        assert_eq!(a.document, b.document);
        for i in 0..2000 {
            let r = resident(i, 1);
            let words: Vec<&str> = r.full_name.as_str().split(' ').collect();
            assert_eq!(words.len(), 3);
            // Gender agrees: a patronymic in -вна goes with a female surname.
            if words[2].ends_with("вна") {
                assert!(
                    words[0].ends_with('а') || words[0].ends_with("ая"),
                    "{}",
                    r.full_name
                );
            }
        }
    }

    #[test]
    fn employer_numbers_check_out() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            assert!(employer_inn(&mut rng).as_str().starts_with("77"));
        }
    }
}
