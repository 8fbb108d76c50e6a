//! Which cart lines a condition or a benefit looks at: product sets, include/exclude filters,
//! and the benefit's product criteria.

use super::cart::CartLine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// FNV-1a, 64 bits: a fixed, fast hash of a name (not a defence against chosen collisions;
/// a collision only costs a string comparison).
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A set of names (SKUs, brands, categories) kept sorted by hash, so that a lookup with a
/// precomputed hash is a binary search over integers. Serialized as a sorted list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct NameSet(Vec<(u64, String)>);

impl NameSet {
    /// Whether `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        self.contains_hashed(name_hash(name), name)
    }

    /// Whether `name`, whose `name_hash` is `hash`, is in the set.
    pub fn contains_hashed(&self, hash: u64, name: &str) -> bool {
        let start = self.0.partition_point(|(h, _)| *h < hash);
        self.0[start..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .any(|(_, n)| n == name)
    }

    /// Whether the set names nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The names, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, n)| n.as_str())
    }
}

impl<S: Into<String>> FromIterator<S> for NameSet {
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> NameSet {
        let mut entries: Vec<(u64, String)> = names
            .into_iter()
            .map(|n| {
                let n = n.into();
                (name_hash(&n), n)
            })
            .collect();
        entries.sort();
        entries.dedup();
        NameSet(entries)
    }
}

impl<S: Into<String>> Extend<S> for NameSet {
    fn extend<I: IntoIterator<Item = S>>(&mut self, names: I) {
        let old = std::mem::take(&mut self.0).into_iter().map(|(_, n)| n);
        *self = old.chain(names.into_iter().map(Into::into)).collect();
    }
}

impl From<Vec<String>> for NameSet {
    fn from(names: Vec<String>) -> NameSet {
        names.into_iter().collect()
    }
}

impl From<NameSet> for Vec<String> {
    fn from(set: NameSet) -> Vec<String> {
        let mut names: Vec<String> = set.0.into_iter().map(|(_, n)| n).collect();
        names.sort();
        names
    }
}

/// A cart line's names hashed once per evaluation (0 for a missing brand or category).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineKeys {
    pub sku: u64,
    pub brand: u64,
    pub category: u64,
}

impl LineKeys {
    /// The hashed names of `line`.
    pub fn of(line: &CartLine) -> LineKeys {
        let hash = |s: &Option<String>| s.as_deref().map_or(0, name_hash);
        LineKeys {
            sku: name_hash(&line.sku),
            brand: hash(&line.brand),
            category: hash(&line.category),
        }
    }
}

/// Products described by SKU (a typed list or an uploaded CSV), brand, category and attribute
/// values. An empty set describes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ProductSet {
    #[serde(default)]
    pub skus: NameSet,
    #[serde(default)]
    pub brands: NameSet,
    #[serde(default)]
    pub categories: NameSet,
    /// Attribute key → accepted values (`colour` → {`blue`, `black`}).
    #[serde(default)]
    pub attributes: BTreeMap<String, BTreeSet<String>>,
}

fn in_set(set: &BTreeSet<String>, value: Option<&String>) -> bool {
    value.is_some_and(|v| set.contains(v.as_str()))
}

fn in_names(set: &NameSet, hash: u64, value: Option<&String>) -> bool {
    value.is_some_and(|v| set.contains_hashed(hash, v))
}

impl ProductSet {
    /// Products with one of these SKUs.
    pub fn skus<const N: usize>(skus: [&str; N]) -> ProductSet {
        ProductSet {
            skus: skus.into_iter().collect(),
            ..ProductSet::default()
        }
    }

    /// Products of one of these brands.
    pub fn brands<const N: usize>(brands: [&str; N]) -> ProductSet {
        ProductSet {
            brands: brands.into_iter().collect(),
            ..ProductSet::default()
        }
    }

    /// Products in one of these categories.
    pub fn categories<const N: usize>(categories: [&str; N]) -> ProductSet {
        ProductSet {
            categories: categories.into_iter().collect(),
            ..ProductSet::default()
        }
    }

    /// The same set also requiring (as an include) or naming (as an exclude) `key = value`.
    pub fn with_attribute(mut self, key: &str, value: &str) -> ProductSet {
        self.attributes
            .entry(key.to_string())
            .or_default()
            .insert(value.to_string());
        self
    }

    /// The same set with these categories too.
    pub fn with_categories<const N: usize>(mut self, categories: [&str; N]) -> ProductSet {
        self.categories.extend(categories);
        self
    }

    /// Whether nothing is named.
    pub fn is_empty(&self) -> bool {
        self.skus.is_empty()
            && self.brands.is_empty()
            && self.categories.is_empty()
            && self.attributes.values().all(BTreeSet::is_empty)
    }

    /// Include semantics: the line matches every dimension that names something (SKU, brand,
    /// category, each attribute key), and any value within one dimension. "Brand Nike" and
    /// "category shoes" together mean Nike shoes. An empty set matches every line.
    pub fn matches_every(&self, line: &CartLine) -> bool {
        self.matches_every_keyed(line, &LineKeys::of(line))
    }

    /// `matches_every` with the line's names already hashed.
    pub fn matches_every_keyed(&self, line: &CartLine, k: &LineKeys) -> bool {
        (self.skus.is_empty() || self.skus.contains_hashed(k.sku, &line.sku))
            && (self.brands.is_empty() || in_names(&self.brands, k.brand, line.brand.as_ref()))
            && (self.categories.is_empty()
                || in_names(&self.categories, k.category, line.category.as_ref()))
            && self
                .attributes
                .iter()
                .all(|(k, vs)| vs.is_empty() || in_set(vs, line.attributes.get(k)))
    }

    /// Exclude semantics: the line matches anything named (any SKU, brand, category or
    /// attribute value). An empty set matches no line.
    pub fn matches_any(&self, line: &CartLine) -> bool {
        self.matches_any_keyed(line, &LineKeys::of(line))
    }

    /// `matches_any` with the line's names already hashed.
    pub fn matches_any_keyed(&self, line: &CartLine, k: &LineKeys) -> bool {
        (!self.skus.is_empty() && self.skus.contains_hashed(k.sku, &line.sku))
            || in_names(&self.brands, k.brand, line.brand.as_ref())
            || in_names(&self.categories, k.category, line.category.as_ref())
            || self
                .attributes
                .iter()
                .any(|(k, vs)| in_set(vs, line.attributes.get(k)))
    }
}

/// Products a condition counts or a benefit rewards: lines matching `include` (everything when
/// it is empty) and not matching `exclude`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ProductFilter {
    #[serde(default)]
    pub include: ProductSet,
    #[serde(default)]
    pub exclude: ProductSet,
}

impl ProductFilter {
    /// Only the products of `set`.
    pub fn only(set: ProductSet) -> ProductFilter {
        ProductFilter {
            include: set,
            exclude: ProductSet::default(),
        }
    }

    /// The same filter, also leaving out the products of `set`.
    pub fn except(mut self, set: ProductSet) -> ProductFilter {
        self.exclude = set;
        self
    }

    /// Whether the filter selects something narrower than "every product".
    pub fn selects(&self) -> bool {
        !self.include.is_empty() || !self.exclude.is_empty()
    }

    /// Whether the line is one of the filter's products.
    pub fn matches(&self, line: &CartLine) -> bool {
        self.matches_keyed(line, &LineKeys::of(line))
    }

    /// `matches` with the line's names already hashed.
    pub fn matches_keyed(&self, line: &CartLine, k: &LineKeys) -> bool {
        self.include.matches_every_keyed(line, k) && !self.exclude.matches_any_keyed(line, k)
    }
}

/// Which products receive an "over and above the condition" benefit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Criteria {
    /// One SKU (a gift, a targeted product); a free product of this SKU is added to the cart
    /// when the cart does not have enough of it.
    Sku { sku: String },
    /// All of several SKUs, together: the benefit applies to complete sets, one unit of each.
    AllOf { skus: BTreeSet<String> },
    /// Every product matching a brand / category / attribute filter.
    Filter { products: ProductFilter },
}

impl Criteria {
    /// Whether the line is one of the rewarded products.
    pub fn matches(&self, line: &CartLine) -> bool {
        self.matches_keyed(line, &LineKeys::of(line))
    }

    /// `matches` with the line's names already hashed.
    pub fn matches_keyed(&self, line: &CartLine, k: &LineKeys) -> bool {
        match self {
            Criteria::Sku { sku } => line.sku == *sku,
            Criteria::AllOf { skus } => skus.contains(line.sku.as_str()),
            Criteria::Filter { products } => products.matches_keyed(line, k),
        }
    }
}
