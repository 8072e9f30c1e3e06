"""The role matrix (`test_role_matrix`), every route for every caller, with the app connected as
a PostgreSQL role bound by row-level security: the product's paths set their customer (or take
their logged bypass) wherever they touch a tenant table, and every refusal still changes
nothing."""

from tests.api.rls import *  # noqa: F403 - the fixtures
from tests.api.test_role_matrix import *  # noqa: F403 - the tests
