'use strict';

// docs/spec.md's POST /aggregate with nodejs-polars: a CSV of orders in, totals by region and
// category out.

const pl = require('nodejs-polars');

const HEADER = 'order_id,customer,region,category,quantity,unit_price,ts';
const BY_GROUP = ['region', 'category'];
const DTYPES = {
  order_id: pl.Int64,
  customer: pl.Utf8,
  region: pl.Utf8,
  category: pl.Utf8,
  quantity: pl.Int64,
  unit_price: pl.Float64,
  ts: pl.Utf8,
};

/** A malformed body: answered 400 by the routes' error handler. */
class BadBody extends Error {
  statusCode = 400;
}

/** The totals of a CSV of orders; a malformed one throws a BadBody saying why. */
function aggregate(csv) {
  if (csv.length === 0) throw new BadBody('the body is empty');
  const end = csv.indexOf('\n');
  // polars takes any header, so the first line is compared here.
  if ((end === -1 ? csv : csv.slice(0, end)) !== HEADER) {
    throw new BadBody(`the first line must be the header ${HEADER}`);
  }
  let orders;
  try {
    // nodejs-polars drops extra fields unless truncateRaggedLines is off.
    orders = pl.readCSV(csv, { dtypes: DTYPES, truncateRaggedLines: false });
  } catch (err) {
    throw new BadBody(`not a CSV of orders: ${err.message.split('\n')[0]}`);
  }
  // polars fills a short line or an empty field with nulls.
  if (orders.nullCount().row(0).some((n) => n > 0)) {
    throw new BadBody('a line has an empty or missing field');
  }

  orders = orders.withColumns(pl.col('quantity').mul(pl.col('unit_price')).alias('revenue'));
  const totals = orders
    .groupBy(BY_GROUP)
    .agg(pl.len().alias('count'), pl.col('revenue').sum().alias('revenue'));
  // Each group's customer with the most revenue in whole cents, the lowest id on a tie.
  const top = orders
    .groupBy([...BY_GROUP, 'customer'])
    .agg(pl.col('revenue').sum().alias('top_customer_revenue'))
    .withColumns(pl.col('top_customer_revenue').mul(100).round(0).alias('cents'))
    .sort([...BY_GROUP, 'cents', 'customer'], [false, false, true, false])
    .unique({ subset: BY_GROUP, keep: 'first', maintainOrder: true });
  const groups = totals
    .join(top, { on: BY_GROUP })
    .sort(BY_GROUP)
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
}

module.exports = { aggregate, BadBody };
