//! The `data` scenario's body and its exact answer (docs/spec.md, `POST /aggregate`): a CSV of
//! orders made from a seed, the same bytes for every stack, and the totals a stack must return,
//! computed in integer cents so that neither rounding nor the order of float summation can make
//! a wrong answer pass.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The header line every body starts with.
pub const HEADER: &str = "order_id,customer,region,category,quantity,unit_price,ts";

/// The seed and row count of the lab's body.
pub const SEED: u64 = 42;
pub const ROWS: u64 = 20_000;

const REGIONS: [&str; 5] = ["north", "south", "east", "west", "central"];
const CATEGORIES: [&str; 6] = [
    "books",
    "clothing",
    "electronics",
    "garden",
    "grocery",
    "toys",
];

/// 2026-01-01T00:00:00Z in seconds since the epoch.
const YEAR_START: u64 = 1_767_225_600;

/// SplitMix64, as the spec writes it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `lo..=hi`.
    fn uniform(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// The body of `rows` orders from `seed`.
pub fn body(seed: u64, rows: u64) -> String {
    let mut rng = SplitMix64(seed);
    let mut out = String::with_capacity(60 + rows as usize * 56);
    out.push_str(HEADER);
    out.push('\n');
    for i in 1..=rows {
        let customer = rng.uniform(1, 1000);
        let region = REGIONS[rng.uniform(0, 4) as usize];
        let category = CATEGORIES[rng.uniform(0, 5) as usize];
        let quantity = rng.uniform(1, 10);
        let cents = rng.uniform(50, 50_000);
        let at = YEAR_START + rng.uniform(0, 31_535_999);
        let _ = writeln!(
            out,
            "{i},C{customer:04},{region},{category},{quantity},{}.{:02},{}",
            cents / 100,
            cents % 100,
            timestamp(at)
        );
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a time in seconds since the epoch.
fn timestamp(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// One group of the answer, exact: money in cents, the mean as revenue over count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub region: String,
    pub category: String,
    pub count: u64,
    pub revenue_cents: u64,
    pub top_customer: String,
    pub top_customer_cents: u64,
}

impl Group {
    /// The mean order value in currency units.
    pub fn mean(&self) -> f64 {
        self.revenue_cents as f64 / 100.0 / self.count as f64
    }
}

/// The exact answer for a well-formed `body`: the number of orders and the groups sorted by
/// region, then category (code points). The top customer is the highest revenue in cents, the
/// lowest id among equals. `Err` names the first line that is not an order.
pub fn answer(body: &str) -> Result<(u64, Vec<Group>), String> {
    let mut lines = body.lines();
    if lines.next() != Some(HEADER) {
        return Err("the first line is not the header".into());
    }
    type Totals = (u64, u64, BTreeMap<String, u64>);
    let mut groups: BTreeMap<(String, String), Totals> = BTreeMap::new();
    let mut orders = 0;
    for (n, line) in lines.enumerate() {
        let bad = || format!("line {} is not an order: {line:?}", n + 2);
        let f: Vec<&str> = line.split(',').collect();
        let [_, customer, region, category, quantity, price, _] = f[..] else {
            return Err(bad());
        };
        let quantity: u64 = quantity.parse().map_err(|_| bad())?;
        let (units, cents) = price.split_once('.').ok_or_else(bad)?;
        if cents.len() != 2 {
            return Err(bad());
        }
        let price = units.parse::<u64>().map_err(|_| bad())? * 100
            + cents.parse::<u64>().map_err(|_| bad())?;
        let g = groups
            .entry((region.to_string(), category.to_string()))
            .or_default();
        g.0 += 1;
        g.1 += quantity * price;
        *g.2.entry(customer.to_string()).or_default() += quantity * price;
        orders += 1;
    }
    let groups = groups
        .into_iter()
        .map(|((region, category), (count, revenue_cents, customers))| {
            // Highest revenue; the lowest id among equals (the map iterates ids in order).
            let (top, cents) = customers
                .into_iter()
                .fold(
                    (String::new(), 0),
                    |best, (id, c)| {
                        if c > best.1 {
                            (id, c)
                        } else {
                            best
                        }
                    },
                );
            Group {
                region,
                category,
                count,
                revenue_cents,
                top_customer: top,
                top_customer_cents: cents,
            }
        })
        .collect();
    Ok((orders, groups))
}

/// Checks a stack's answer (the JSON it returned) against the exact one, as docs/spec.md says:
/// `orders`, every `count`, the groups' keys and order and `top_customer` exactly, money within
/// 0.01 of the exact value.
pub fn check(answer: &serde_json::Value, orders: u64, groups: &[Group]) -> Result<(), String> {
    const CENT: f64 = 0.01 + 1e-9;
    let got = answer
        .get("orders")
        .and_then(serde_json::Value::as_u64)
        .ok_or("the answer has no integer `orders`")?;
    if got != orders {
        return Err(format!("`orders` is {got}, not {orders}"));
    }
    let list = answer
        .get("groups")
        .and_then(serde_json::Value::as_array)
        .ok_or("the answer has no array `groups`")?;
    if list.len() != groups.len() {
        return Err(format!("{} groups, not {}", list.len(), groups.len()));
    }
    for (i, (g, want)) in list.iter().zip(groups).enumerate() {
        let text = |k: &str| g.get(k).and_then(serde_json::Value::as_str);
        let number = |k: &str| {
            g.get(k)
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| format!("group {i}: no number `{k}`"))
        };
        let key = (text("region"), text("category"));
        if key != (Some(&*want.region), Some(&*want.category)) {
            return Err(format!(
                "group {i} is {key:?}, not ({}, {}): groups are sorted by region, then category",
                want.region, want.category
            ));
        }
        let at = format!("{}/{}", want.region, want.category);
        let count = g.get("count").and_then(serde_json::Value::as_u64);
        if count != Some(want.count) {
            return Err(format!("{at}: count {count:?}, not {}", want.count));
        }
        let money = [
            ("revenue", want.revenue_cents as f64 / 100.0),
            ("mean_order_value", want.mean()),
            (
                "top_customer_revenue",
                want.top_customer_cents as f64 / 100.0,
            ),
        ];
        for (k, exact) in money {
            let v = number(k)?;
            if (v - exact).abs() > CENT {
                return Err(format!("{at}: {k} {v}, not {exact:.2} (within 0.01)"));
            }
        }
        if text("top_customer") != Some(&*want.top_customer) {
            return Err(format!(
                "{at}: top customer {:?}, not {} (the highest revenue; the lowest id among equals)",
                text("top_customer"),
                want.top_customer
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_lab_s_body_is_the_spec_s() {
        let b = body(SEED, ROWS);
        assert_eq!(b.len(), 1_103_238);
        let digest = Sha256::digest(b.as_bytes());
        let hex: String = digest.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(
            hex,
            "edb5d04565c768dbf694b85ccd5546c29110d1f680e06f00aa3f0b885b9e4374"
        );
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(
            lines[1],
            "1,C0414,south,books,5,449.43,2026-09-03T16:57:42Z"
        );
        assert_eq!(
            lines.last().copied(),
            Some("20000,C0388,north,grocery,7,445.83,2026-05-26T15:20:49Z")
        );
    }

    #[test]
    fn the_lab_s_answer_has_every_group_and_the_spec_s_first() {
        let (orders, groups) = answer(&body(SEED, ROWS)).unwrap();
        assert_eq!(orders, 20_000);
        assert_eq!(groups.len(), 30);
        assert!(groups.iter().all(|g| (624..=729).contains(&g.count)));
        assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), 20_000);
        let first = &groups[0];
        assert_eq!(
            (first.region.as_str(), first.category.as_str(), first.count),
            ("central", "books", 658)
        );
        assert_eq!(first.revenue_cents, 88_844_369);
        assert_eq!(first.top_customer, "C0313");
        assert_eq!(first.top_customer_cents, 952_845);
        assert!((first.mean() - 1350.22).abs() < 0.005, "{}", first.mean());
    }

    /// The spec's tie example: float sums put C0002 ahead of C0001, cents do not.
    const TIE: &str = "order_id,customer,region,category,quantity,unit_price,ts\n\
                       1,C0002,north,books,1,0.10,2026-01-01T00:00:00Z\n\
                       2,C0002,north,books,1,0.20,2026-01-01T00:00:01Z\n\
                       3,C0001,north,books,1,0.30,2026-01-01T00:00:02Z\n\
                       4,C0003,east,toys,2,1.25,2026-01-01T00:00:03Z\n";

    #[test]
    fn a_tie_goes_to_the_lowest_id_and_cents_are_exact() {
        let (orders, groups) = answer(TIE).unwrap();
        assert_eq!(orders, 4);
        assert_eq!(groups[0].region, "east");
        assert_eq!(groups[0].revenue_cents, 250);
        let north = &groups[1];
        assert_eq!((north.count, north.revenue_cents), (3, 60));
        assert_eq!(
            (north.top_customer.as_str(), north.top_customer_cents),
            ("C0001", 30)
        );
    }

    #[test]
    fn answers_are_checked_exactly_where_the_spec_says_and_to_the_cent_elsewhere() {
        let (orders, groups) = answer(TIE).unwrap();
        // The spec's answer, with float sums' last digits.
        let right: serde_json::Value = serde_json::from_str(
            r#"{"orders":4,"groups":[
              {"region":"east","category":"toys","count":1,"revenue":2.5,"mean_order_value":2.5,"top_customer":"C0003","top_customer_revenue":2.5},
              {"region":"north","category":"books","count":3,"revenue":0.6000000000000001,"mean_order_value":0.2,"top_customer":"C0001","top_customer_revenue":0.3}]}"#,
        )
        .unwrap();
        assert_eq!(check(&right, orders, &groups), Ok(()));
        let wrong = |path: &str, v: serde_json::Value| {
            let mut a = right.clone();
            *a.pointer_mut(path).unwrap() = v;
            check(&a, orders, &groups).unwrap_err()
        };
        assert!(wrong("/groups/1/top_customer", "C0002".into()).contains("lowest id"));
        assert!(wrong("/groups/1/count", 2.into()).contains("count"));
        assert!(wrong("/groups/1/revenue", 0.62.into()).contains("revenue"));
        assert!(wrong("/orders", 5.into()).contains("`orders`"));
        assert!(wrong("/groups/0/region", "west".into()).contains("sorted"));
        let mut swapped = right.clone();
        swapped["groups"].as_array_mut().unwrap().reverse();
        assert!(check(&swapped, orders, &groups)
            .unwrap_err()
            .contains("sorted"));
    }

    #[test]
    fn a_body_that_is_not_orders_is_named() {
        assert!(answer("id,customer\n").is_err());
        let short = format!("{HEADER}\n1,C0001,north,books,1,0.10\n");
        assert!(answer(&short).unwrap_err().contains("line 2"));
        let price = format!("{HEADER}\n1,C0001,north,books,1,abc,2026-01-01T00:00:00Z\n");
        assert!(answer(&price).is_err());
    }
}
