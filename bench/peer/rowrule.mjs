// The foundation's row rule on `needs`, as a condition field `visibleToOrganization: Int`.
//
// The same rule the hub applies to an LKS partner (policies/policy.csv, hub/authz/rows.py):
// `open_in_service_area` (OPEN, in a kecamatan it serves, in a category it serves as
// service domain or PPKS) OR `pledged_by_own_organization` (it holds a pledge in force on
// the need, or fulfilled one). It is written once here as SQL, exactly as the hub's
// SQLAlchemy renders it; PostGraphile's documented way to add such a filter is
// `addPgTableCondition` from postgraphile/utils.
import { addPgTableCondition } from "postgraphile/utils";
import { TYPES } from "postgraphile/@dataplan/pg";

export const FoundationRowRulePlugin = addPgTableCondition(
  { schemaName: "public", tableName: "needs" },
  "visibleToOrganization",
  (build) => ({
    description: build.wrapDescription(
      "Only the needs the foundation with this organisation id may see under the hub's row rule.",
      "field",
    ),
    type: build.graphql.GraphQLInt,
  }),
  (value, { sql, sqlTableAlias, sqlValueWithCodec }) => {
    if (value == null) return null;
    const org = sqlValueWithCodec(value, TYPES.int);
    const t = sqlTableAlias;
    return sql`(
      (${t}.status = 'OPEN'
        AND ${t}.kecamatan_code IN (
          SELECT a.kecamatan_code FROM organization_areas AS a WHERE a.organization_id = ${org})
        AND (${t}.category_code IN (
               SELECT oc.category_code FROM organization_categories AS oc
               WHERE oc.organization_id = ${org})
             OR ${t}.ppks_code IN (
               SELECT oc.category_code FROM organization_categories AS oc
               WHERE oc.organization_id = ${org})))
      OR EXISTS (
        SELECT 1 FROM pledges AS p
        WHERE p.need_id = ${t}.id AND p.organization_id = ${org}
          AND ((p.status = 'ACTIVE' AND p.expires_at > now()) OR p.status = 'FULFILLED'))
    )`;
  },
);
