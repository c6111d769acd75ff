//! `propusk import residents` as an operator runs it: the real binary on a 10,000-line
//! registry with 200 bad lines of 20 kinds. Exactly those land in the rejects file, with
//! their line numbers; a phone already registered with another document is refused and its
//! resident left as they were; a resident who had only signed in gets the registry's
//! identity; importing the file again changes nothing. Files that are no registry are
//! refused whole, before anything is written. On SQLite, and on PostgreSQL when
//! `PROPUSK_TEST_DATABASE_URL` is set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, PhoneNumber};
use propusk_store::{Profile, Store};
use sqlx::Connection;

const HEADER: &str = "phone,full_name,document_type,document_number,address,lat,lon";
const LINES: usize = 10_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("propusk-import-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn propusk(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run propusk")
}

/// Where an import goes: a data directory (SQLite) or a fresh PostgreSQL database.
struct Target {
    args: Vec<String>,
    url: String,
    pg: Option<(String, String)>,
}

async fn targets(dir: &Path) -> Vec<Target> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut all = vec![Target {
        args: vec!["--data-dir".into(), data.display().to_string()],
        url: format!("sqlite://{}", data.join("propusk.db").display()),
        pg: None,
    }];
    if let Ok(base) = std::env::var("PROPUSK_TEST_DATABASE_URL") {
        if !base.is_empty() {
            sqlx::any::install_default_drivers();
            let name = format!("propusk_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            let url = format!("{prefix}/{name}");
            all.push(Target {
                args: vec!["--database-url".into(), url.clone()],
                url,
                pg: Some((base, name)),
            });
        }
    }
    all
}

async fn drop_target(target: Target) {
    if let Some((base, name)) = target.pg {
        let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap();
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Every resident as stored, ordered by phone: id, phone, name, document, home, times.
async fn residents(url: &str) -> Vec<String> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id || '|' || phone || '|' || COALESCE(full_name, '') || '|' || COALESCE(doc_kind, '') \
         || '|' || COALESCE(doc_number, '') || '|' || COALESCE(home_address, '') || '|' \
         || COALESCE(CAST(home_lat AS TEXT), '') || '|' || COALESCE(CAST(home_lon AS TEXT), '') \
         || '|' || CAST(created_at AS TEXT) || '|' || CAST(updated_at AS TEXT) \
         FROM residents ORDER BY phone",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}

fn phone(i: usize) -> String {
    format!("+7916{:07}", 1_000_000 + i)
}

fn good_line(i: usize) -> String {
    const SURNAMES: [&str; 5] = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов"];
    const NAMES: [&str; 4] = ["Иван", "Пётр", "Алексей", "Сергей"];
    format!(
        "{},{} {} Олегович,passport_ru,45{:02} {:06},\"Москва, ул. Тверская, д. {}, кв. {}\",55.{:04},37.{:04}",
        phone(i),
        SURNAMES[i % 5],
        NAMES[i % 4],
        i % 100,
        i,
        i % 30 + 1,
        i % 200 + 1,
        5000 + i % 4000,
        4000 + i % 3000
    )
}

/// Russian text in Windows-1251.
fn windows_1251(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'А'..='я' => (0xC0 + (c as u32 - 'А' as u32)) as u8,
            'Ё' => 0xA8,
            'ё' => 0xB8,
            c if c.is_ascii() => c as u8,
            c => panic!("{c} is not in the test's table"),
        })
        .collect()
}

/// The registry: 10,000 lines after the header, the bad ones by line number with their
/// expected code. Lines whose phone is taken by a resident with another document, and
/// phones of residents who only signed in, are returned too.
struct Registry {
    bytes: Vec<u8>,
    bad: BTreeMap<u64, &'static str>,
    /// (phone, document number) of residents registered before the import with another
    /// document than the file's.
    registered: Vec<(String, String)>,
    /// Phones of residents who signed in and have no profile.
    signed_in: Vec<String>,
}

fn registry() -> Registry {
    let mut lines: Vec<Vec<u8>> = (0..LINES).map(|i| good_line(i).into_bytes()).collect();
    let mut bad = BTreeMap::new();
    let mut registered = Vec::new();
    // Twenty kinds, ten lines each, spread over the file; `k` is the kind, `n` the copy.
    // Lines with bytes that are not UTF-8 come after the first 64 KiB, which are sniffed.
    for k in 0..20 {
        for n in 0..10 {
            let i = 1000 + n * 880 + k * 41 + (n * 7 + k) % 13;
            let line = 2 + i as u64;
            let good = good_line(i);
            let fields: Vec<&str> = good.splitn(5, ',').collect();
            let (code, text): (&str, Vec<u8>) = match k {
                0 => (
                    "unclosed_quote",
                    good.replacen("\",55.", ",55.", 1).into_bytes(),
                ),
                1 => (
                    "stray_quote",
                    good.replacen("Олегович", "Оле\"гович", 1).into_bytes(),
                ),
                2 => (
                    "too_few_fields",
                    good.rsplit_once(',').unwrap().0.as_bytes().to_vec(),
                ),
                3 => ("too_many_fields", format!("{good},0").into_bytes()),
                4 => (
                    "control_character",
                    good.replacen("Олегович", "Оле\u{1}гович", 1).into_bytes(),
                ),
                5 => (
                    "phone_missing",
                    good.replacen(&phone(i), "", 1).into_bytes(),
                ),
                6 => (
                    "phone_invalid",
                    good.replacen("+7916", "+7-916-x", 1).into_bytes(),
                ),
                7 => (
                    "phone_not_mobile",
                    good.replacen(&phone(i), &format!("8 495 {:07}", i), 1)
                        .into_bytes(),
                ),
                8 => (
                    "name_invalid",
                    good.replacen("Олегович", "Олегович-3", 1).into_bytes(),
                ),
                9 => (
                    "document_type_unknown",
                    good.replacen("passport_ru", "паспорт", 1).into_bytes(),
                ),
                10 => (
                    "document_number_invalid",
                    good.replacen(&format!(" {i:06},"), &format!(" {i:05},"), 1)
                        .into_bytes(),
                ),
                11 => (
                    "address_missing",
                    format!(
                        "{},{},{},{},\"  \",55.5,37.5",
                        fields[0], fields[1], fields[2], fields[3]
                    )
                    .into_bytes(),
                ),
                12 => (
                    "address_too_long",
                    format!(
                        "{},{},{},{},{},55.5,37.5",
                        fields[0],
                        fields[1],
                        fields[2],
                        fields[3],
                        "д".repeat(301)
                    )
                    .into_bytes(),
                ),
                13 => (
                    "coordinates_incomplete",
                    format!(
                        "{},{},{},{},Москва,55.5,",
                        fields[0], fields[1], fields[2], fields[3]
                    )
                    .into_bytes(),
                ),
                14 => (
                    "coordinate_not_a_number",
                    format!(
                        "{},{},{},{},Москва,55.5,тридцать семь",
                        fields[0], fields[1], fields[2], fields[3]
                    )
                    .into_bytes(),
                ),
                15 => (
                    "coordinate_out_of_range",
                    format!(
                        "{},{},{},{},Москва,91.5,37.5",
                        fields[0], fields[1], fields[2], fields[3]
                    )
                    .into_bytes(),
                ),
                16 => ("not_utf8", {
                    let mut b = format!("{},", fields[0]).into_bytes();
                    b.extend(windows_1251("Иванов Иван Олегович"));
                    b.extend(format!(",{},{},Москва,,", fields[2], fields[3]).into_bytes());
                    b
                }),
                17 => (
                    "line_too_long",
                    format!(
                        "{},{},{},{},\"{}\",55.5,37.5",
                        fields[0],
                        fields[1],
                        fields[2],
                        fields[3],
                        "д".repeat(2100)
                    )
                    .into_bytes(),
                ),
                18 => {
                    // Registered before the import with another document.
                    registered.push((phone(i), format!("4600{i:06}")));
                    ("phone_registered_with_other_document", good.into_bytes())
                }
                _ => {
                    // The line before has the same phone and another document: this one is
                    // refused, that one stands. (Both in one batch of 2,000 lines.)
                    let earlier = String::from_utf8(lines[i - 1].clone()).unwrap();
                    assert!(!bad.contains_key(&(line - 1)));
                    assert_ne!((line - 2) % 2000, 0, "not the first line of a batch");
                    let moved = earlier.replacen(&phone(i - 1), &phone(i), 1);
                    lines[i - 1] = moved.into_bytes();
                    ("phone_repeated_with_other_document", good.into_bytes())
                }
            };
            assert!(bad.insert(line, code).is_none(), "line {line} used twice");
            lines[i] = text;
        }
    }
    // Five residents signed in before the import and have no profile yet.
    let signed_in = (0..5).map(|n| phone(20 + n * 100)).collect();
    let mut bytes = format!("{HEADER}\n").into_bytes();
    for line in lines {
        bytes.extend(line);
        bytes.push(b'\n');
    }
    Registry {
        bytes,
        bad,
        registered,
        signed_in,
    }
}

/// The rejects file: (line, code, record) per row.
fn rejects(path: &Path) -> Vec<(u64, String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["line", "code", "reason", "record"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert!(r[2].len() > 10, "a reason: {r:?}");
            (r[0].parse().unwrap(), r[1].to_string(), r[3].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_with_200_bad_lines_of_20_kinds() {
    let dir = temp_dir("registry");
    let file = dir.join("registry.csv");
    let registry = registry();
    std::fs::write(&file, &registry.bytes).unwrap();
    let kinds: std::collections::BTreeSet<&str> = registry.bad.values().copied().collect();
    assert_eq!((registry.bad.len(), kinds.len()), (200, 20));
    let original: Vec<&[u8]> = registry.bytes.split(|b| *b == b'\n').collect();

    for target in targets(&dir).await {
        // Before the import: residents registered through the portal with other documents,
        // and residents who only signed in.
        let store = Store::open(&target.url).await.unwrap();
        let now = jiff::Timestamp::now();
        for (phone, number) in &registry.registered {
            let phone = PhoneNumber::parse(phone).unwrap();
            let r = store.resident_for_phone(&phone, now).await.unwrap();
            let profile = Profile {
                full_name: FullName::parse("Другой Житель").unwrap(),
                document: Document::parse(DocumentKind::PassportRu, number).unwrap(),
                home_address: "Москва, своя квартира".into(),
                home: GeoPoint::new(55.7, 37.6).unwrap(),
            };
            store.set_profile(&r.id, &profile, now).await.unwrap();
        }
        for phone in &registry.signed_in {
            let phone = PhoneNumber::parse(phone).unwrap();
            store.resident_for_phone(&phone, now).await.unwrap();
        }
        store.close().await;
        let before = residents(&target.url).await;

        let mut args = vec!["import", "residents", "registry.csv", "--batch", "2000"];
        args.extend(target.args.iter().map(String::as_str));
        let first = propusk(&args, &dir);
        let stdout = String::from_utf8_lossy(&first.stdout);
        let stderr = String::from_utf8_lossy(&first.stderr);
        assert_eq!(first.status.code(), Some(1), "{stdout}\n{stderr}");
        assert!(
            stdout.contains(
                "Новых жителей: 9795, дополнено профилей: 5, без изменений: 0, отклонено: 200"
            ),
            "{stdout}"
        );
        // Not a terminal: plain progress lines, no bar.
        assert!(!stderr.contains('\u{1b}'), "{stderr}");

        // Exactly the bad lines, each with its line as it was in the file.
        let got = rejects(&dir.join("registry.csv.rejects.csv"));
        let by_line: BTreeMap<u64, &str> = got.iter().map(|(l, c, _)| (*l, c.as_str())).collect();
        assert_eq!(by_line, registry.bad);
        for (line, code, record) in &got {
            let bytes = original[*line as usize - 1];
            match code.as_str() {
                "not_utf8" => assert_eq!(record, &String::from_utf8_lossy(bytes)),
                "line_too_long" => assert!(bytes.starts_with(record.as_bytes())),
                _ => assert_eq!(record.as_bytes(), bytes, "line {line}"),
            }
        }
        let after = residents(&target.url).await;
        assert_eq!(after.len(), before.len() + 9795);
        // The residents with other documents are as they were.
        for (phone, number) in &registry.registered {
            let row = after.iter().find(|r| r.contains(phone.as_str())).unwrap();
            assert!(
                row.contains(number) && row.contains("Другой Житель"),
                "{row}"
            );
        }
        for phone in &registry.signed_in {
            let row = after.iter().find(|r| r.contains(phone.as_str())).unwrap();
            assert!(
                row.contains("passport_ru") && row.contains("Олегович"),
                "{row}"
            );
        }

        // Again: nothing changes, and the same lines are refused for the same reasons.
        let rejects_before = std::fs::read(dir.join("registry.csv.rejects.csv")).unwrap();
        let second = propusk(&args, &dir);
        let stdout = String::from_utf8_lossy(&second.stdout);
        assert_eq!(second.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains(
                "Новых жителей: 0, дополнено профилей: 0, без изменений: 9800, отклонено: 200"
            ),
            "{stdout}"
        );
        assert_eq!(residents(&target.url).await, after);
        assert_eq!(
            std::fs::read(dir.join("registry.csv.rejects.csv")).unwrap(),
            rejects_before
        );
        drop_target(target).await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_no_registry_is_refused_whole_with_a_hint() {
    let dir = temp_dir("refused");
    let good = format!("{HEADER}\n{}\n", good_line(1));
    let mut cp1251 = format!("{HEADER}\n").into_bytes();
    cp1251.extend(windows_1251(
        "+79161000001,Иванов Иван Олегович,passport_ru,4501 000001,Москва,,\n",
    ));
    let cases: Vec<(&str, Vec<u8>, &[&str], &str)> = vec![
        (
            "windows-1251.csv",
            cp1251,
            &[
                "Windows-1251",
                "iconv -f WINDOWS-1251 -t UTF-8 windows-1251.csv",
            ],
            "ru",
        ),
        (
            "windows-1251-en.csv",
            windows_1251("phone,full_name\nИванов\n"),
            &["is in Windows-1251, not UTF-8"],
            "en",
        ),
        (
            "book.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00".to_vec(),
            &["XLSX", "CSV UTF-8"],
            "ru",
        ),
        (
            "scan.csv",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec(),
            &["двоичный файл"],
            "ru",
        ),
        (
            "utf16.csv",
            b"\xff\xfep\0h\0o\0n\0e\0".to_vec(),
            &["UTF-16"],
            "ru",
        ),
        (
            "no-header.csv",
            good.lines().nth(1).unwrap().as_bytes().to_vec(),
            &["первая строка — данные", "phone,full_name,document_type"],
            "ru",
        ),
        (
            "missing.csv",
            "phone,full_name,address\n+79161000001,Иванов Иван,Москва\n"
                .as_bytes()
                .to_vec(),
            &["the columns document_type, document_number are missing"],
            "en",
        ),
        (
            "json.csv",
            b"{\"residents\": []}\n".to_vec(),
            &["not a residents registry in CSV", "a stray quote"],
            "en",
        ),
        ("empty.csv", Vec::new(), &["Файл пуст"], "ru"),
    ];
    for (name, bytes, expected, lang) in cases {
        std::fs::write(dir.join(name), &bytes).unwrap();
        let data = dir.join(format!("data-{name}"));
        let out = propusk(
            &[
                "import",
                "residents",
                name,
                "--lang",
                lang,
                "--data-dir",
                &data.display().to_string(),
            ],
            &dir,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        for text in expected {
            assert!(stderr.contains(text), "{name}: {stderr}");
        }
        // Refused before the database was opened or any rejects file made.
        assert!(!data.join("propusk.db").exists(), "{name}");
        assert!(!dir.join(format!("{name}.rejects.csv")).exists(), "{name}");
    }
    // And the same header with good rows imports.
    std::fs::write(dir.join("good.csv"), good).unwrap();
    let out = propusk(
        &["import", "residents", "good.csv", "--data-dir", "d"],
        &dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
