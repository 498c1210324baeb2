"""The GraphQL layer: schema assembly, context, scalars, pagination, prefetching, errors."""
