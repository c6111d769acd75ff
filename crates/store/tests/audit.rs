//! The audit log under concurrent records: entries recorded on their own are committed in
//! groups (`audit_writer.rs`), and the hash chain stays whole and gap-free, also with two
//! nodes writing to one database. On SQLite, and on PostgreSQL when
//! `PROPUSK_TEST_DATABASE_URL` is set.

use propusk_store::Store;

mod common;
use common::{drop_db, fresh_urls};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_from_two_nodes_keep_one_whole_chain() {
    for (url, pg) in fresh_urls().await {
        let nodes = [
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        ];
        let mut tasks = Vec::new();
        for (n, store) in nodes.iter().enumerate() {
            for t in 0..8 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..25 {
                        store
                            .audit(
                                &format!("inspector-{n}-{t}"),
                                "pass.verify",
                                &format!("pass-{i}"),
                                "verdict=valid",
                                jiff::Timestamp::now(),
                            )
                            .await
                            .unwrap();
                    }
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        let store = &nodes[0];
        assert_eq!(store.verify_audit_chain().await.unwrap(), None, "{url}");
        let entries = store.audit_tail(1000).await.unwrap();
        assert_eq!(
            entries.len(),
            2 * 8 * 25,
            "every acknowledged record is there"
        );
        let mut seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=400).collect::<Vec<_>>(), "no gap and no repeat");
        for store in &nodes {
            store.close().await;
        }
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}
