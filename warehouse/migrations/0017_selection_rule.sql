-- One definition of a selection (the teams, projects, keys, providers and models a report,
-- budget, forecast, comparison or dashboard page keeps): each list is NULL for all, else the
-- values to keep, and a model is kept by its wire id or by the canonical model it is priced
-- as. A query passes the lists and the dimensions its rows have, by name:
--     WHERE in_selection(teams := $teams, team := c.team, providers := $providers, …)
-- A list left out keeps everything, so a table without api_key_id passes no keys. DuckDB
-- expands the macro in place: a list given as a constant still reaches the scan as a filter.
CREATE MACRO in_selection(
    teams := NULL, projects := NULL, keys := NULL, providers := NULL, models := NULL,
    team := NULL, project := NULL, api_key_id := NULL, provider := NULL, model := NULL,
    canonical_model := NULL
) AS
    (teams IS NULL OR list_contains(teams, team))
    AND (projects IS NULL OR list_contains(projects, project))
    AND (keys IS NULL OR list_contains(keys, api_key_id))
    AND (providers IS NULL OR list_contains(providers, provider))
    AND (models IS NULL
         OR coalesce(list_contains(models, model) OR list_contains(models, canonical_model), false));
