//! Both backends' migrations carry the same versions.

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
