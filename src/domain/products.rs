//! The product catalogue and customers' tiers and segments (PRM-1), as people type them: a
//! product in the console's form or on a line of a products CSV, and a customer's tiers and
//! segments on a line of a tags CSV. Each parses into a value the store writes as it is; a CSV
//! reports every bad line with its number.
//!
//! SKUs, categories, brands, attributes, tiers and segments are kept as typed (trimmed): the
//! promotion engine matches them exactly against what tills send and what promotions name.

use super::csv_lines::{LineError, read_csv};
use super::ids::PromotionId;
use super::issue::CustomerRef;
use super::masters::IdentifierType;
use super::money::parse_amount;
use super::promotion::{Criteria, Promotion, Status, Target};
use super::{FieldError, FieldErrors, has_control};
use std::collections::{BTreeMap, HashMap};

/// A product's stock-keeping unit: 1–64 characters without control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &'static str, raw: &str) -> Result<Sku, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Sku(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest product name, category, brand or attribute value.
pub const MAX_TEXT: usize = 120;
/// Longest attribute key, tier or segment.
pub const MAX_KEY: usize = 64;
/// Most attributes one product may carry.
pub const MAX_ATTRIBUTES: usize = 30;

/// Checks one trimmed piece of text: 1–`max` characters, no control characters; `what` names
/// it in the message.
fn text(what: &str, raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if s.chars().count() > max {
        return Err(format!("{what} `{s}` is longer than {max} characters"));
    }
    if has_control(s) {
        return Err(format!("{what} contains a control character"));
    }
    Ok(s.to_string())
}

/// A price as typed ("1,499.50") in minor units of a currency with `digits` minor digits;
/// zero is a price (a free gift), a negative one is not.
pub fn parse_price(field: &'static str, raw: &str, digits: u32) -> Result<i64, FieldError> {
    let s: String = raw.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let zero = !whole.is_empty()
        && whole.chars().all(|c| c == '0')
        && frac.chars().all(|c| c == '0')
        && frac.len() as u32 <= digits;
    if zero {
        return Ok(0);
    }
    parse_amount(field, raw, digits).map_err(|e| {
        if s.starts_with('-') {
            FieldError::new(field, "must not be negative")
        } else {
            e
        }
    })
}

/// An optional category or brand: empty is none.
fn optional_text(field: &'static str, raw: &str) -> Result<Option<String>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    super::parse_name(field, raw, MAX_TEXT).map(Some)
}

/// Parses attributes written `key=value; key=value` (empty: none). Keys are unique; a value
/// may contain `=` (the first one separates).
pub fn parse_attributes(
    field: &'static str,
    raw: &str,
) -> Result<BTreeMap<String, String>, FieldError> {
    let mut map = BTreeMap::new();
    for piece in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |m: String| FieldError::new(field, m);
        let Some((key, value)) = piece.split_once('=') else {
            return Err(bad(format!(
                "`{piece}` is not key=value (write them like colour=blue; size=M)"
            )));
        };
        let key = text("a key", key, MAX_KEY).map_err(|m| bad(format!("{m} in `{piece}`")))?;
        let value =
            text("the value", value, MAX_TEXT).map_err(|m| bad(format!("{m} in `{piece}`")))?;
        if map.insert(key.clone(), value).is_some() {
            return Err(bad(format!("{key} is given twice")));
        }
    }
    if map.len() > MAX_ATTRIBUTES {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_ATTRIBUTES} attributes per product"),
        ));
    }
    Ok(map)
}

/// Attributes as the form and the CSV write them: `colour=blue; size=M`.
pub fn attributes_text(attributes: &BTreeMap<String, String>) -> String {
    attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A product's fields as typed, in the form or on a CSV line.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProductText<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub price: &'a str,
    pub category: &'a str,
    pub brand: &'a str,
    pub attributes: &'a str,
}

/// A product of the catalogue; `price` in minor units of the org's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub price: i64,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl Product {
    /// Parses a product typed for a currency with `digits` minor digits; errors are keyed by
    /// the form's input names (`sku`, `name`, `price`, `category`, `brand`, `attributes`).
    pub fn parse(t: ProductText<'_>, digits: u32) -> Result<Product, FieldErrors> {
        let mut errors = FieldErrors::default();
        let sku = errors.take(Sku::parse("sku", t.sku));
        let name = errors.take(super::parse_name("name", t.name, MAX_TEXT));
        let price = errors.take(parse_price("price", t.price, digits));
        let category = errors.take(optional_text("category", t.category));
        let brand = errors.take(optional_text("brand", t.brand));
        let attributes = errors.take(parse_attributes("attributes", t.attributes));
        match (sku, name, price, category, brand, attributes) {
            (Some(sku), Some(name), Some(price), Some(category), Some(brand), Some(attributes)) => {
                Ok(Product {
                    sku,
                    name,
                    price,
                    category,
                    brand,
                    attributes,
                })
            }
            _ => Err(errors),
        }
    }
}

/// The header of a products CSV.
pub const PRODUCTS_HEADER: [&str; 6] = ["sku", "name", "price", "category", "brand", "attributes"];

/// Parses a products CSV (`PRODUCTS_HEADER`; prices for a currency with `digits` minor
/// digits): every product, or every bad line with its number — a SKU given twice included.
pub fn parse_products_csv(bytes: &[u8], digits: u32) -> Result<Vec<Product>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen: HashMap<Sku, u64> = HashMap::new();
    let errors = read_csv(bytes, &PRODUCTS_HEADER, |line, f| {
        let text = ProductText {
            sku: f[0],
            name: f[1],
            price: f[2],
            category: f[3],
            brand: f[4],
            attributes: f[5],
        };
        let product = Product::parse(text, digits).map_err(|e| e.to_string())?;
        if let Some(first) = seen.insert(product.sku.clone(), line) {
            return Err(format!(
                "SKU {} is repeated (first on line {first})",
                product.sku.as_str()
            ));
        }
        rows.push(product);
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Parses tiers or segments written `a; b` (empty: none); repeats are dropped.
pub fn parse_tags(field: &'static str, raw: &str) -> Result<Vec<String>, FieldError> {
    let mut tags: Vec<String> = Vec::new();
    for piece in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let tag = text("a name", piece, MAX_KEY).map_err(|m| FieldError::new(field, m))?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// A customer named by identifier type (`MOBILE`, `EMAIL`, `EXTERNAL_ID`) and identifier,
/// normalised; errors keyed `identifier_type` and `identifier`.
pub fn parse_customer(kind: &str, identifier: &str) -> Result<CustomerRef, FieldErrors> {
    let mut errors = FieldErrors::default();
    let Some(kind) = IdentifierType::parse(kind) else {
        errors.push(
            "identifier_type",
            format!(
                "must be MOBILE, EMAIL or EXTERNAL_ID, not `{}`",
                kind.trim()
            ),
        );
        return Err(errors);
    };
    if identifier.trim().is_empty() {
        errors.push("identifier", "is required");
        return Err(errors);
    }
    CustomerRef::parse(kind, identifier).map_err(|m| {
        errors.push("identifier", m);
        errors
    })
}

/// A customer's tiers and segments, replacing those they had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTags {
    pub customer: CustomerRef,
    pub tiers: Vec<String>,
    pub segments: Vec<String>,
}

/// The header of a customer tags CSV.
pub const TAGS_HEADER: [&str; 4] = ["identifier_type", "identifier", "tiers", "segments"];

/// Parses a customer tags CSV (`TAGS_HEADER`; tiers and segments `;`-separated, both empty
/// to clear a customer's): every row, or every bad line with its number — a customer given
/// twice included.
pub fn parse_customer_tags_csv(bytes: &[u8]) -> Result<Vec<CustomerTags>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen: HashMap<CustomerRef, u64> = HashMap::new();
    let errors = read_csv(bytes, &TAGS_HEADER, |line, f| {
        let customer = parse_customer(f[0], f[1]).map_err(|e| e.to_string())?;
        let mut errors = FieldErrors::default();
        let tiers = errors.take(parse_tags("tiers", f[2]));
        let segments = errors.take(parse_tags("segments", f[3]));
        let (Some(tiers), Some(segments)) = (tiers, segments) else {
            return Err(errors.to_string());
        };
        if let Some(first) = seen.insert(customer.clone(), line) {
            return Err(format!(
                "customer {} is repeated (first on line {first})",
                customer.label()
            ));
        }
        rows.push(CustomerTags {
            customer,
            tiers,
            segments,
        });
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// A live or paused promotion that names a SKU, as a refused deletion lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionUse {
    pub id: PromotionId,
    pub name: String,
    pub status: Status,
}

/// Why a product was not deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// The org's catalogue has no product of that SKU.
    Unknown,
    /// Live or paused promotions name the SKU (by id): they must end or change first.
    InUse(Vec<PromotionUse>),
}

impl DeleteRefusal {
    /// What a person reads: "Used by live promotion “Buy 2 pants” — end it or change it first".
    pub fn message(&self, sku: &str) -> String {
        match self {
            DeleteRefusal::Unknown => format!("There is no product {sku} in the catalogue."),
            DeleteRefusal::InUse(uses) => {
                let named: Vec<String> = uses
                    .iter()
                    .map(|u| format!("{} promotion “{}”", u.status.as_str(), u.name))
                    .collect();
                let list = match named.split_last() {
                    Some((last, [])) => last.clone(),
                    Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                    None => String::new(),
                };
                let them = if uses.len() == 1 { "it" } else { "them" };
                format!("Used by {list} — end {them} or change {them} first")
            }
        }
    }
}

/// Whether a promotion names `sku` as one of the products it counts or rewards: in the include
/// set of a product condition, as the benefit's SKU or one of its all-of SKUs, or in the include
/// set of the benefit's filter. An exclude set does not count: leaving out a product that is
/// gone changes nothing.
pub fn names_sku(p: &Promotion, sku: &str) -> bool {
    let in_conditions = p
        .conditions
        .iter()
        .filter_map(|c| c.products())
        .any(|f| f.include.skus.contains(sku));
    let in_benefit = match &p.benefit.target {
        Target::Products { criteria, .. } => match criteria {
            Criteria::Sku { sku: s } => s == sku,
            Criteria::AllOf { skus } => skus.contains(sku),
            Criteria::Filter { products } => products.include.skus.contains(sku),
        },
        Target::Cart | Target::ConditionItems => false,
    };
    in_conditions || in_benefit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed<'a>(sku: &'a str, price: &'a str, attributes: &'a str) -> ProductText<'a> {
        ProductText {
            sku,
            name: "Slim chinos",
            price,
            category: " PANTS ",
            brand: "",
            attributes,
        }
    }

    #[test]
    fn a_typed_product_parses_into_minor_units_with_its_attributes() {
        let p =
            Product::parse(typed(" PANT-1 ", "1,499.50", "colour=navy; size = 32;"), 2).unwrap();
        assert_eq!(p.sku.as_str(), "PANT-1");
        assert_eq!(p.price, 149_950);
        assert_eq!(p.category.as_deref(), Some("PANTS"));
        assert_eq!(p.brand, None);
        assert_eq!(
            p.attributes,
            BTreeMap::from([
                ("colour".to_string(), "navy".to_string()),
                ("size".to_string(), "32".to_string())
            ])
        );
        assert_eq!(attributes_text(&p.attributes), "colour=navy; size=32");
    }

    #[test]
    fn prices_follow_the_currency_and_may_be_zero_but_not_negative() {
        assert_eq!(parse_price("price", "0", 2).unwrap(), 0);
        assert_eq!(parse_price("price", "0.00", 2).unwrap(), 0);
        assert_eq!(parse_price("price", "1499", 0).unwrap(), 1499);
        assert_eq!(
            parse_price("price", "-5", 2).unwrap_err().message,
            "must not be negative"
        );
        assert_eq!(
            parse_price("price", "12.5", 0).unwrap_err().message,
            "must be a whole amount in this currency"
        );
        assert_eq!(
            parse_price("price", "12.345", 2).unwrap_err().message,
            "can have at most 2 decimals in this currency"
        );
        assert_eq!(
            parse_price("price", "abc", 2).unwrap_err().message,
            "must be an amount such as 500 or 499.50"
        );
        assert_eq!(
            parse_price("price", "", 2).unwrap_err().message,
            "is required"
        );
    }

    #[test]
    fn every_bad_field_of_a_typed_product_is_named() {
        let long_sku = "S".repeat(65);
        let e = Product::parse(
            ProductText {
                sku: &long_sku,
                name: "  ",
                price: "twelve",
                category: "",
                brand: "",
                attributes: "colour",
            },
            2,
        )
        .unwrap_err();
        assert_eq!(e.get("sku"), "must be at most 64 characters");
        assert_eq!(e.get("name"), "is required");
        assert_eq!(e.get("price"), "must be an amount such as 500 or 499.50");
        assert_eq!(
            e.get("attributes"),
            "`colour` is not key=value (write them like colour=blue; size=M)"
        );
        assert_eq!(e.get("category"), "");
    }

    #[test]
    fn attributes_refuse_empty_keys_values_and_repeats() {
        assert_eq!(parse_attributes("a", "  ").unwrap(), BTreeMap::new());
        assert_eq!(
            parse_attributes("a", "=blue").unwrap_err().message,
            "a key is empty in `=blue`"
        );
        assert_eq!(
            parse_attributes("a", "colour=").unwrap_err().message,
            "the value is empty in `colour=`"
        );
        assert_eq!(
            parse_attributes("a", "colour=blue; colour=red")
                .unwrap_err()
                .message,
            "colour is given twice"
        );
        // The first `=` separates; the value keeps the rest.
        assert_eq!(
            parse_attributes("a", "fit=a=b").unwrap()["fit"],
            "a=b".to_string()
        );
    }

    #[test]
    fn a_products_csv_reports_every_bad_line_with_its_number() {
        let csv = "sku,name,price,category,brand,attributes\n\
                   PANT-1,Chinos,1499,PANTS,Acme,colour=navy\n\
                   BELT-1,Belt,cheap,BELTS,,\n\
                   PANT-1,Again,10,PANTS,,\n\
                   ,No SKU,10,,,\n\
                   SHOE-1,Shoe,10\n\
                   HAT-1,Hat,10,,,size\n";
        let e = parse_products_csv(csv.as_bytes(), 2).unwrap_err();
        assert_eq!(
            e,
            vec![
                LineError {
                    line: 3,
                    message: "price must be an amount such as 500 or 499.50".into()
                },
                LineError {
                    line: 4,
                    message: "SKU PANT-1 is repeated (first on line 2)".into()
                },
                LineError {
                    line: 5,
                    message: "sku is required".into()
                },
                LineError {
                    line: 6,
                    message:
                        "expected 6 columns (sku,name,price,category,brand,attributes), found 3"
                            .into()
                },
                LineError {
                    line: 7,
                    message:
                        "attributes `size` is not key=value (write them like colour=blue; size=M)"
                            .into()
                },
            ]
        );
    }

    #[test]
    fn a_good_products_csv_gives_every_product() {
        let csv = "SKU,Name,Price,Category,Brand,Attributes\r\n\
                   PANT-1,Chinos,\"1,499.50\",PANTS,Acme,colour=navy; size=32\r\n\
                   GIFT-1,Gift bag,0,,,\r\n";
        let rows = parse_products_csv(csv.as_bytes(), 2).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].price, 149_950);
        assert_eq!(rows[0].brand.as_deref(), Some("Acme"));
        assert_eq!(rows[0].attributes.len(), 2);
        assert_eq!(rows[1].price, 0);
        assert_eq!(rows[1].category, None);
        assert!(rows[1].attributes.is_empty());
    }

    #[test]
    fn a_wrong_header_is_reported_once() {
        let e = parse_products_csv(b"sku,name,price\nA,B,1\n", 2).unwrap_err();
        assert_eq!(
            e,
            vec![LineError {
                line: 1,
                message: "the header must be `sku,name,price,category,brand,attributes`".into()
            }]
        );
    }

    #[test]
    fn tags_are_split_trimmed_and_deduplicated() {
        assert_eq!(
            parse_tags("tiers", " Gold ; ;Platinum;Gold").unwrap(),
            vec!["Gold".to_string(), "Platinum".to_string()]
        );
        assert_eq!(parse_tags("tiers", "").unwrap(), Vec::<String>::new());
        let long = "x".repeat(65);
        assert_eq!(
            parse_tags("tiers", &long).unwrap_err().message,
            format!("a name `{long}` is longer than 64 characters")
        );
    }

    #[test]
    fn a_customer_is_named_by_type_and_identifier() {
        assert_eq!(
            parse_customer("email", " Asha@Example.com ").unwrap(),
            CustomerRef {
                kind: IdentifierType::Email,
                value: "asha@example.com".into()
            }
        );
        let e = parse_customer("PHONE", "9800000001").unwrap_err();
        assert_eq!(
            e.get("identifier_type"),
            "must be MOBILE, EMAIL or EXTERNAL_ID, not `PHONE`"
        );
        let e = parse_customer("MOBILE", "").unwrap_err();
        assert_eq!(e.get("identifier"), "is required");
        let e = parse_customer("MOBILE", "12").unwrap_err();
        assert_eq!(
            e.get("identifier"),
            "`12` is not a mobile number (8 to 15 digits, optionally starting with +)"
        );
    }

    #[test]
    fn a_tags_csv_reports_every_bad_line_with_its_number() {
        let csv = "identifier_type,identifier,tiers,segments\n\
                   MOBILE,9800000001,Gold,new-parents; weekend\n\
                   PHONE,9800000002,Gold,\n\
                   EMAIL,not-an-email,,\n\
                   mobile,98000 00001,Silver,\n\
                   EXTERNAL_ID,C-9,,\n";
        let e = parse_customer_tags_csv(csv.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            vec![
                LineError {
                    line: 3,
                    message: "identifier_type must be MOBILE, EMAIL or EXTERNAL_ID, not `PHONE`"
                        .into()
                },
                LineError {
                    line: 4,
                    message: "identifier `not-an-email` is not an email address".into()
                },
                LineError {
                    line: 5,
                    message: "customer MOBILE 9800000001 is repeated (first on line 2)".into()
                },
            ]
        );
    }

    #[test]
    fn a_good_tags_csv_gives_each_customers_tiers_and_segments() {
        let csv = "identifier_type,identifier,tiers,segments\n\
                   MOBILE,+91 98000 00001,Gold,new-parents; weekend\n\
                   EXTERNAL_ID,C-9,,\n";
        let rows = parse_customer_tags_csv(csv.as_bytes()).unwrap();
        assert_eq!(
            rows,
            vec![
                CustomerTags {
                    customer: CustomerRef {
                        kind: IdentifierType::Mobile,
                        value: "+919800000001".into()
                    },
                    tiers: vec!["Gold".into()],
                    segments: vec!["new-parents".into(), "weekend".into()],
                },
                // Both empty: the customer's tiers and segments are cleared.
                CustomerTags {
                    customer: CustomerRef {
                        kind: IdentifierType::ExternalId,
                        value: "C-9".into()
                    },
                    tiers: vec![],
                    segments: vec![],
                },
            ]
        );
    }

    /// A promotion of `conditions` and benefit `target` (10% off), from its JSON.
    fn rules(conditions: serde_json::Value, target: serde_json::Value) -> Promotion {
        serde_json::from_value(serde_json::json!({
            "id": 1, "name": "P", "kind": {"type": "automatic"},
            "validity": {"starts": "2026-01-01T00:00:00Z"},
            "conditions": conditions,
            "benefit": {"target": target, "value": {"type": "percent", "basisPoints": 1000}},
            "stacking": "stackable"
        }))
        .unwrap()
    }

    #[test]
    fn a_promotion_names_a_sku_it_counts_or_rewards_but_not_one_it_leaves_out() {
        let cart = serde_json::json!({"type": "cart"});
        let counts = |include: serde_json::Value, exclude: serde_json::Value| {
            serde_json::json!([{"type": "productQuantity", "atLeast": 1,
                "products": {"include": include, "exclude": exclude}}])
        };
        let none = serde_json::json!([]);
        let named = [
            rules(
                counts(
                    serde_json::json!({"skus": ["PANT-1"]}),
                    serde_json::json!({}),
                ),
                cart.clone(),
            ),
            rules(
                none.clone(),
                serde_json::json!({"type": "products",
                "criteria": {"type": "sku", "sku": "PANT-1"}, "quantity": 1}),
            ),
            rules(
                none.clone(),
                serde_json::json!({"type": "products",
                "criteria": {"type": "allOf", "skus": ["BELT-1", "PANT-1"]}, "quantity": 1}),
            ),
            rules(
                none.clone(),
                serde_json::json!({"type": "products",
                "criteria": {"type": "filter", "products": {"include": {"skus": ["PANT-1"]}}},
                "quantity": null}),
            ),
        ];
        for p in &named {
            assert!(names_sku(p, "PANT-1"), "{p:?}");
            assert!(!names_sku(p, "PANT-2"), "{p:?}");
        }
        let not_named = [
            rules(none.clone(), cart.clone()),
            rules(
                counts(
                    serde_json::json!({"categories": ["PANT-1"]}),
                    serde_json::json!({"skus": ["PANT-1"]}),
                ),
                cart.clone(),
            ),
            rules(
                none,
                serde_json::json!({"type": "products",
                "criteria": {"type": "filter", "products": {"exclude": {"skus": ["PANT-1"]}}},
                "quantity": 1}),
            ),
        ];
        for p in &not_named {
            assert!(!names_sku(p, "PANT-1"), "{p:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_promotions_in_use() {
        let used = |id, name: &str, status| PromotionUse {
            id: PromotionId(id),
            name: name.into(),
            status,
        };
        let one = DeleteRefusal::InUse(vec![used(1, "Buy 2 pants", Status::Live)]);
        assert_eq!(
            one.message("PANT-1"),
            "Used by live promotion “Buy 2 pants” — end it or change it first"
        );
        let three = DeleteRefusal::InUse(vec![
            used(1, "A", Status::Live),
            used(2, "B", Status::Paused),
            used(3, "C", Status::Live),
        ]);
        assert_eq!(
            three.message("PANT-1"),
            "Used by live promotion “A”, paused promotion “B” and live promotion “C” — end them or change them first"
        );
        assert_eq!(
            DeleteRefusal::Unknown.message("PANT-1"),
            "There is no product PANT-1 in the catalogue."
        );
    }
}
