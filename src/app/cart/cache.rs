//! What cart evaluations read of an org, kept per instance: its live promotions under the org's
//! `promotions_version`, and the catalogue facts and store zones looked up so far under its
//! `catalogue_version`. Both versions are read with the org on every call (and moved by every
//! write, on any instance), so a write applies from the next call.
//!
//! An entry is used only at the version the call read. A call that read a newer version starts
//! the org's entry again; one that read an older version (it raced a write) reads the database
//! and leaves the entry alone.

use super::limits::RecentCounts;
use super::*;
use crate::store::catalogue::ProductFacts;
use std::collections::BTreeMap;

/// SKUs kept per org; past it the org's entry starts again (a catalogue larger than this is
/// still served, by more reads).
const MAX_SKUS: usize = 100_000;

/// Store codes kept per org, likewise.
const MAX_STORES: usize = 20_000;

/// The per-instance cache of what carts read of each org, and of the global use counts of
/// promotions far from their limits (`RecentCounts`).
#[derive(Debug, Clone, Default)]
pub struct CartCache {
    orgs: Arc<Mutex<HashMap<OrgId, OrgEntry>>>,
    counts: Arc<RecentCounts>,
}

#[derive(Debug, Default)]
struct OrgEntry {
    promotions: Option<(i64, Arc<Vec<Promotion>>)>,
    catalogue: Catalogue,
}

/// What was looked up at one `catalogue_version`: each SKU's facts (None: not in the catalogue)
/// and each store code's zone (None: unknown store, or none).
#[derive(Debug, Default)]
struct Catalogue {
    version: i64,
    products: HashMap<String, Option<Arc<LineFacts>>>,
    zones: HashMap<String, Option<String>>,
}

/// What a cart line that does not say them gets from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFacts {
    pub category: Option<String>,
    pub brand: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl From<&ProductFacts> for LineFacts {
    fn from(p: &ProductFacts) -> Self {
        LineFacts {
            category: p.category.clone(),
            brand: p.brand.clone(),
            attributes: p.attribute_map(),
        }
    }
}

/// A look-up in the cache: found, not looked up yet at this version, or not usable (the call
/// read an older version than the one kept).
enum Lookup<T> {
    Hit(T),
    Miss,
    Stale,
}

/// Whether a call that read `version` may use (and fill) the catalogue `c`; a newer version
/// clears it first.
fn current(c: &mut Catalogue, version: i64) -> bool {
    if version > c.version {
        *c = Catalogue {
            version,
            ..Catalogue::default()
        };
    }
    version == c.version
}

impl CartCache {
    /// The global use counts read lately of promotions far from their limits.
    pub(super) fn counts(&self) -> &RecentCounts {
        &self.counts
    }

    fn with<T>(&self, org_id: OrgId, f: impl FnOnce(&mut OrgEntry) -> T) -> Option<T> {
        let mut map = self.orgs.lock().ok()?;
        Some(f(map.entry(org_id).or_default()))
    }

    /// The org's live promotions at `version` (the org's `promotions_version`).
    pub async fn live(
        &self,
        store: &Store,
        org_id: OrgId,
        version: i64,
    ) -> StoreResult<Arc<Vec<Promotion>>> {
        let kept = self.with(org_id, |e| match &e.promotions {
            Some((v, list)) if *v == version => Some(list.clone()),
            _ => None,
        });
        if let Some(Some(list)) = kept {
            return Ok(list);
        }
        let list = Arc::new(store.live_promotions(org_id).await?);
        self.with(org_id, |e| {
            if e.promotions.as_ref().is_none_or(|(v, _)| *v <= version) {
                e.promotions = Some((version, list.clone()));
            }
        });
        Ok(list)
    }

    /// The catalogue's facts of `skus` at `version` (the org's `catalogue_version`); SKUs the
    /// catalogue does not have are absent.
    pub async fn products(
        &self,
        store: &Store,
        org_id: OrgId,
        version: i64,
        skus: &[&str],
    ) -> StoreResult<HashMap<String, Arc<LineFacts>>> {
        let mut found = HashMap::new();
        let mut missing: Vec<&str> = Vec::new();
        let usable = self.with(org_id, |e| {
            if !current(&mut e.catalogue, version) {
                return false;
            }
            for sku in skus {
                match e.catalogue.products.get(*sku) {
                    Some(Some(f)) => {
                        found.insert(sku.to_string(), f.clone());
                    }
                    Some(None) => {}
                    None => missing.push(sku),
                }
            }
            true
        });
        if usable != Some(true) {
            missing = skus.to_vec();
            found.clear();
        }
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(found);
        }
        let read = store.products_by_sku(org_id, &missing).await?;
        let read: HashMap<&str, Arc<LineFacts>> = read
            .values()
            .map(|p| (p.sku.as_str(), Arc::new(LineFacts::from(p))))
            .collect();
        if usable == Some(true) {
            self.with(org_id, |e| {
                if e.catalogue.version != version {
                    return;
                }
                if e.catalogue.products.len() + missing.len() > MAX_SKUS {
                    e.catalogue.products.clear();
                }
                for sku in &missing {
                    e.catalogue
                        .products
                        .insert(sku.to_string(), read.get(sku).cloned());
                }
            });
        }
        found.extend(read.into_iter().map(|(k, v)| (k.to_string(), v)));
        Ok(found)
    }

    /// The zone of the org's store `code` at `version` (the org's `catalogue_version`).
    pub async fn zone(
        &self,
        store: &Store,
        org_id: OrgId,
        version: i64,
        code: &str,
    ) -> StoreResult<Option<String>> {
        let code = code.trim().to_uppercase();
        let kept = self.with(org_id, |e| {
            if !current(&mut e.catalogue, version) {
                return Lookup::Stale;
            }
            match e.catalogue.zones.get(&code) {
                Some(zone) => Lookup::Hit(zone.clone()),
                None => Lookup::Miss,
            }
        });
        let kept = kept.unwrap_or(Lookup::Stale);
        if let Lookup::Hit(zone) = kept {
            return Ok(zone);
        }
        let zone = store.store_zone(org_id, &code).await?;
        if let Lookup::Miss = kept {
            self.with(org_id, |e| {
                if e.catalogue.version != version {
                    return;
                }
                if e.catalogue.zones.len() >= MAX_STORES {
                    e.catalogue.zones.clear();
                }
                e.catalogue.zones.insert(code, zone.clone());
            });
        }
        Ok(zone)
    }
}
