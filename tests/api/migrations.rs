//! Both backends' migrations carry the same versions and make the same schema.

#[test]
fn sqlite_and_postgres_migrations_have_the_same_versions() {
    let versions = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .split('_')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (versions("sqlite"), versions("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

/// Tables, columns (with NOT NULL) and named indexes of a migrated database.
#[derive(Debug, PartialEq, Eq)]
struct Schema {
    tables: std::collections::BTreeMap<String, Vec<(String, bool)>>,
    indexes: std::collections::BTreeSet<(String, String)>,
}

async fn schema_of(url: &str) -> Schema {
    use offerdesk::store::dyntx::Arg;
    let store = offerdesk::store::Store::open(url).await.unwrap();
    let postgres = url.starts_with("postgres");
    let tables: Vec<(String,)> = store
        .fetch_all_read(
            if postgres {
                "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = 'public' \
                 AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1"
            } else {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY 1"
            },
            &[],
        )
        .await
        .unwrap();
    let mut schema = Schema {
        tables: Default::default(),
        indexes: Default::default(),
    };
    for (table,) in tables {
        // (name, NOT NULL); a primary-key column counts as NOT NULL on both.
        let columns: Vec<(String, bool)> = if postgres {
            let rows: Vec<(String, String, bool)> = store
                .fetch_all_read(
                    "SELECT c.column_name::TEXT, c.is_nullable::TEXT, EXISTS (SELECT 1 FROM information_schema.key_column_usage k \
                     JOIN information_schema.table_constraints t ON t.constraint_name = k.constraint_name \
                     WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_name = c.table_name AND k.column_name = c.column_name) \
                     FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = $1 ORDER BY 1",
                    &[Arg::Text(table.clone())],
                )
                .await
                .unwrap();
            rows.into_iter()
                .map(|(n, nullable, pk)| (n, pk || nullable == "NO"))
                .collect()
        } else {
            let rows: Vec<(String, i64, i64)> = store
                .fetch_all_read(
                    "SELECT name, \"notnull\", pk FROM pragma_table_info($1) ORDER BY 1",
                    &[Arg::Text(table.clone())],
                )
                .await
                .unwrap();
            rows.into_iter()
                .map(|(n, notnull, pk)| (n, notnull == 1 || pk > 0))
                .collect()
        };
        // Indexes made by CREATE INDEX (not those behind PRIMARY KEY / UNIQUE constraints).
        let indexes: Vec<(String,)> = store
            .fetch_all_read(
                if postgres {
                    "SELECT i.indexname::TEXT FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = $1 \
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
                } else {
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
                },
                &[Arg::Text(table.clone())],
            )
            .await
            .unwrap();
        for (index,) in indexes {
            schema.indexes.insert((table.clone(), index));
        }
        schema.tables.insert(table, columns);
    }
    store.close().await;
    schema
}

/// The two backends' migrations make the same schema: tables, columns, NOT NULL, and named
/// indexes. Runs where the suite runs on PostgreSQL (`TEST_POSTGRES_URL`), against SQLite.
#[tokio::test]
async fn sqlite_and_postgres_migrations_make_the_same_schema() {
    let Some(_) = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("schema comparison runs in the PostgreSQL pass (TEST_POSTGRES_URL)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = schema_of(&format!("sqlite:{}", dir.path().join("s.db").display())).await;
    let pg_db = crate::helpers::TestDb::new().await;
    let postgres = schema_of(pg_db.url()).await;
    assert!(sqlite.tables.len() >= 20, "{:?}", sqlite.tables.keys());
    assert!(sqlite.indexes.len() >= 10, "{:?}", sqlite.indexes);
    assert!(sqlite.tables["redemptions"].contains(&("transaction_number".to_string(), true)));
    let names = |s: &Schema| s.tables.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&sqlite), names(&postgres), "tables");
    for (table, columns) in &sqlite.tables {
        assert_eq!(
            Some(columns),
            postgres.tables.get(table),
            "columns (name, NOT NULL) of {table}"
        );
    }
    assert_eq!(sqlite.indexes, postgres.indexes, "named indexes");
}
