// docs/spec.md's POST /aggregate with nodejs-polars: a CSV of orders in, totals by region and
// category out.

import { BadRequestException, Injectable } from '@nestjs/common';
import pl from 'nodejs-polars';

const HEADER = ['order_id', 'customer', 'region', 'category', 'quantity', 'unit_price', 'ts'];
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

export interface Group {
  region: string;
  category: string;
  count: number;
  revenue: number;
  mean_order_value: number;
  top_customer: string;
  top_customer_revenue: number;
}

export interface Totals {
  orders: number;
  groups: Group[];
}

@Injectable()
export class OrdersService {
  /** The totals of a CSV of orders; a malformed one is a BadRequestException saying why. */
  aggregate(csv: unknown): Totals {
    // The text parser leaves no string when the body is empty or not text/csv.
    if (typeof csv !== 'string' || csv.length === 0) {
      throw new BadRequestException('the body is empty or not text/csv');
    }
    let orders: pl.DataFrame;
    try {
      // nodejs-polars drops extra fields unless truncateRaggedLines is off.
      orders = pl.readCSV(csv, { dtypes: DTYPES, truncateRaggedLines: false });
    } catch (err) {
      throw new BadRequestException(`not a CSV of orders: ${(err as Error).message.split('\n')[0]}`);
    }
    // polars takes any header, and fills a short line or an empty field with nulls.
    if (orders.columns.join(',') !== HEADER.join(',')) {
      throw new BadRequestException(`the first line must be the header ${HEADER.join(',')}`);
    }
    if (orders.nullCount().row(0).some((n: number) => n > 0)) {
      throw new BadRequestException('a line has an empty or missing field');
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
    return { orders: orders.height, groups: groups.toRecords() as unknown as Group[] };
  }
}
