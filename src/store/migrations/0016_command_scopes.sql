-- Keys created with every scope keep every scope: they gain those of commands, sessions and the
-- message log (migrations 0010/0011 added the routes without granting them, so such keys got 403).
UPDATE api_keys SET scopes = scopes || ARRAY['read:commands', 'write:commands', 'read:sessions', 'read:messages']
 WHERE scopes @> ARRAY['read:charge_points', 'write:charge_points', 'read:sites', 'write:sites',
                       'read:maintenance', 'write:maintenance', 'write:webhooks',
                       'read:events', 'read:alerts', 'write:alerts']
   AND NOT scopes && ARRAY['read:commands', 'write:commands', 'read:sessions', 'read:messages'];
