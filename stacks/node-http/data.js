'use strict';

// docs/spec.md's POST /aggregate: a CSV of orders in, totals by region and category out.
// DATA_LIBRARY chooses what parses and groups: nodejs-polars (the default), or `js`: csv-parse's
// sync API and a Map (the variant stacks/node-http-js).

const HEADER = ['order_id', 'customer', 'region', 'category', 'quantity', 'unit_price', 'ts'];

/** A body the spec refuses with a 400; its message says why. */
class BadBody extends Error {}

/** The aggregate function of the library DATA_LIBRARY names: CSV bytes in, the answer out. */
function aggregator(library = process.env.DATA_LIBRARY ?? 'polars') {
  if (library === 'polars') return polarsAggregator();
  if (library === 'js') return jsAggregator();
  throw new Error(`DATA_LIBRARY must be polars or js, not ${library}`);
}

function polarsAggregator() {
  const pl = require('nodejs-polars');
  const dtypes = {
    order_id: pl.Int64,
    customer: pl.Utf8,
    region: pl.Utf8,
    category: pl.Utf8,
    quantity: pl.Int64,
    unit_price: pl.Float64,
    ts: pl.Utf8,
  };
  const byGroup = ['region', 'category'];

  return (body) => {
    if (body.length === 0) throw new BadBody('the body is empty');
    let orders;
    try {
      // nodejs-polars drops extra fields unless truncateRaggedLines is off.
      orders = pl.readCSV(body, { dtypes, truncateRaggedLines: false });
    } catch (err) {
      throw new BadBody(`not a CSV of orders: ${err.message.split('\n')[0]}`);
    }
    // polars takes any header, and fills a short line or an empty field with nulls.
    if (orders.columns.join(',') !== HEADER.join(',')) {
      throw new BadBody(`the first line must be the header ${HEADER.join(',')}`);
    }
    if (orders.nullCount().row(0).some((n) => n > 0)) {
      throw new BadBody('a line has an empty or missing field');
    }

    orders = orders.withColumns(pl.col('quantity').mul(pl.col('unit_price')).alias('revenue'));
    const totals = orders
      .groupBy(byGroup)
      .agg(pl.len().alias('count'), pl.col('revenue').sum().alias('revenue'));
    // Each group's customer with the most revenue in whole cents, the lowest id on a tie.
    const top = orders
      .groupBy([...byGroup, 'customer'])
      .agg(pl.col('revenue').sum().alias('top_customer_revenue'))
      .withColumns(pl.col('top_customer_revenue').mul(100).round(0).alias('cents'))
      .sort([...byGroup, 'cents', 'customer'], [false, false, true, false])
      .unique({ subset: byGroup, keep: 'first', maintainOrder: true });
    const groups = totals
      .join(top, { on: byGroup })
      .sort(byGroup)
      .select(
        'region',
        'category',
        'count',
        pl.col('revenue').round(2),
        pl.col('revenue').div(pl.col('count')).round(2).alias('mean_order_value'),
        pl.col('customer').alias('top_customer'),
        pl.col('top_customer_revenue').round(2),
      );
    return { orders: orders.height, groups: groups.toRecords() };
  };
}

function jsAggregator() {
  const { parse } = require('csv-parse/sync');
  const cents = (x) => Math.round(x * 100);

  return (body) => {
    if (body.length === 0) throw new BadBody('the body is empty');
    let records;
    try {
      // Throws on a line whose field count differs from the header's, and on a broken quote.
      records = parse(body);
    } catch (err) {
      throw new BadBody(`not a CSV of orders: ${err.message}`);
    }
    if (records.length === 0 || records[0].join(',') !== HEADER.join(',')) {
      throw new BadBody(`the first line must be the header ${HEADER.join(',')}`);
    }

    // Groups by region and category; each keeps its customers' revenues.
    const groups = new Map();
    for (let i = 1; i < records.length; i++) {
      const [, customer, region, category, q, p] = records[i];
      if (records[i].includes('')) throw new BadBody(`line ${i + 1} has an empty field`);
      const quantity = Number(q);
      const price = Number(p);
      if (!Number.isInteger(quantity)) throw new BadBody(`line ${i + 1}: quantity is not an integer`);
      if (!Number.isFinite(price)) throw new BadBody(`line ${i + 1}: unit_price is not a number`);
      const key = JSON.stringify([region, category]);
      let group = groups.get(key);
      if (group === undefined) {
        group = { region, category, count: 0, revenue: 0, customers: new Map() };
        groups.set(key, group);
      }
      const revenue = quantity * price;
      group.count++;
      group.revenue += revenue;
      group.customers.set(customer, (group.customers.get(customer) ?? 0) + revenue);
    }

    const answer = [];
    for (const { region, category, count, revenue, customers } of groups.values()) {
      let top = null;
      let topRevenue = 0;
      for (const [customer, sum] of customers) {
        const better =
          top === null ||
          cents(sum) > cents(topRevenue) ||
          (cents(sum) === cents(topRevenue) && byCodePoint(customer, top) < 0);
        if (better) {
          top = customer;
          topRevenue = sum;
        }
      }
      answer.push({
        region,
        category,
        count,
        revenue: cents(revenue) / 100,
        mean_order_value: cents(revenue / count) / 100,
        top_customer: top,
        top_customer_revenue: cents(topRevenue) / 100,
      });
    }
    answer.sort((a, b) => byCodePoint(a.region, b.region) || byCodePoint(a.category, b.category));
    return { orders: records.length - 1, groups: answer };
  };
}

/** Code point order: UTF-8 bytes compare so (UTF-16 code units, as `<` compares, do not). */
function byCodePoint(a, b) {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

module.exports = { aggregator, BadBody };
