//! Values decoded once at the database boundary. A text column that holds a domain value (a
//! currency, a time zone, a role, a status) is read straight into the domain type, on both
//! databases; a value the domain does not know fails the read (a broken row is an error, not a
//! silent default), so no caller parses or falls back again.

use crate::domain::delivery::DeliveryStatus;
use crate::domain::ids::{CustomerId, JobId, OfferId, OrgId, PromotionId, UserId};
use crate::domain::job::{JobKind, JobStatus};
use crate::domain::masters::ConsumerKind;
use crate::domain::offer::{Channel, CodeKind, Discount, OfferExpiry};
use crate::domain::org::{Currency, OrgTz};
use crate::domain::promotion::Status as PromotionStatus;
use crate::domain::redeem::CouponStatus;
use crate::domain::user::Role;

/// `sqlx::Type` + `sqlx::Decode` for a type read from a text column by `parse` (`&str →
/// Option<Self>`), on every database whose text decodes as `&str`.
macro_rules! text_decoded {
    ($ty:ty, $what:literal, |$s:ident| $parse:expr) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let $s: &str = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                let parsed: Option<$ty> = $parse;
                parsed.ok_or_else(|| format!(concat!("unknown ", $what, " {:?}"), $s).into())
            }
        }
    };
}

/// `sqlx::Type`, `Decode` and `Encode` for an id newtype: the integer key as it is.
macro_rules! integer_id {
    ($($ty:ident),*) => {$(
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            i64: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <i64 as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <i64 as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            i64: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <i64 as sqlx::Decode<'r, DB>>::decode(value).map($ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            i64: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<'q, DB>>::encode_by_ref(&self.0, buf)
            }
        }

        impl From<$ty> for super::dyntx::Arg {
            fn from(v: $ty) -> Self {
                super::dyntx::Arg::I64(v.0)
            }
        }

        impl From<Option<$ty>> for super::dyntx::Arg {
            fn from(v: Option<$ty>) -> Self {
                super::dyntx::Arg::OptI64(v.map(|v| v.0))
            }
        }
    )*};
}

integer_id!(OrgId, OfferId, UserId, JobId, CustomerId, PromotionId);

text_decoded!(Currency, "currency", |s| Currency::parse("currency", s)
    .ok());
text_decoded!(OrgTz, "time zone", |s| s.parse().ok().map(OrgTz));
text_decoded!(Role, "role", |s| Role::parse("role", s).ok());
text_decoded!(ConsumerKind, "consumer kind", |s| ConsumerKind::parse(
    "kind", s
)
.ok());
text_decoded!(JobKind, "job kind", |s| JobKind::parse(s));
text_decoded!(JobStatus, "job status", |s| JobStatus::parse(s));
text_decoded!(
    DeliveryStatus,
    "delivery status",
    |s| DeliveryStatus::parse(s)
);
text_decoded!(Channel, "channel", |s| Channel::parse(s));
text_decoded!(CouponStatus, "coupon status", |s| CouponStatus::parse(s));
text_decoded!(CodeKind, "code kind", |s| CodeKind::parse(s));
text_decoded!(PromotionStatus, "promotion status", |s| {
    PromotionStatus::parse(s)
});
text_decoded!(super::carts::CartStatus, "cart status", |s| {
    super::carts::CartStatus::parse(s)
});

/// An offer's end read from `expiry_type` and `expires_on`: `#[sqlx(flatten)] expiry:
/// OfferExpiry` in a row. An unknown type, or a fixed one without its date, fails the read.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for OfferExpiry
where
    &'static str: sqlx::ColumnIndex<R>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let kind: &str = row.try_get("expiry_type")?;
        let date: Option<chrono::NaiveDate> = row.try_get("expires_on")?;
        match (kind, date) {
            ("fixed", Some(d)) => Ok(OfferExpiry::Fixed(d)),
            ("campaign", _) => Ok(OfferExpiry::WithCampaign),
            (other, _) => Err(sqlx::Error::ColumnDecode {
                index: "expiry_type".into(),
                source: format!("unknown offer expiry {other:?} (date {date:?})").into(),
            }),
        }
    }
}

/// A discount read from its three columns (`discount_type`, `discount_value`,
/// `discount_cap`): `#[sqlx(flatten)] discount: Discount` in a row. An unknown type fails the
/// read.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for Discount
where
    &'static str: sqlx::ColumnIndex<R>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let kind: &str = row.try_get("discount_type")?;
        let value: i64 = row.try_get("discount_value")?;
        let cap: Option<i64> = row.try_get("discount_cap")?;
        match kind {
            "ABS" => Ok(Discount::Fixed { amount: value }),
            "PERC" => Ok(Discount::Percent {
                basis_points: value,
                cap,
            }),
            other => Err(sqlx::Error::ColumnDecode {
                index: "discount_type".into(),
                source: format!("unknown discount type {other:?}").into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn text_columns_decode_into_domain_values_and_unknown_ones_fail_the_read() {
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let (c, tz, r): (Currency, OrgTz, Role) =
            sqlx::query_as("SELECT 'KWD', 'Asia/Dubai', 'csm'")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!((c.code(), c.minor_digits()), ("KWD", 3));
        assert_eq!(tz.0, chrono_tz::Asia::Dubai);
        assert_eq!(r, Role::Csm);
        let broken = sqlx::query_as::<_, (Currency,)>("SELECT 'XXX'")
            .fetch_one(&mut db)
            .await;
        assert!(
            broken
                .unwrap_err()
                .to_string()
                .contains("unknown currency \"XXX\"")
        );
        let broken = sqlx::query_as::<_, (OrgTz,)>("SELECT 'Mars/Base'")
            .fetch_one(&mut db)
            .await;
        assert!(broken.is_err());
    }

    #[tokio::test]
    async fn ids_bind_and_read_as_their_integer_key() {
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let (offer, org): (OfferId, Option<OrgId>) = sqlx::query_as("SELECT $1 + 1, NULL")
            .bind(OfferId(41))
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!((offer, org), (OfferId(42), None));
    }

    #[tokio::test]
    async fn a_discount_is_read_from_its_three_columns() {
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let read = |sql: &'static str| sqlx::query_as::<_, Discount>(sql);
        let fixed =
            read("SELECT 'ABS' AS discount_type, 20000 AS discount_value, NULL AS discount_cap")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!(fixed, Discount::Fixed { amount: 20000 });
        let capped =
            read("SELECT 'PERC' AS discount_type, 1250 AS discount_value, 50000 AS discount_cap")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!(
            capped,
            Discount::Percent {
                basis_points: 1250,
                cap: Some(50000)
            }
        );
        let broken =
            read("SELECT 'BOGO' AS discount_type, 1 AS discount_value, NULL AS discount_cap")
                .fetch_one(&mut db)
                .await;
        assert!(
            broken
                .unwrap_err()
                .to_string()
                .contains("unknown discount type")
        );
    }
}
