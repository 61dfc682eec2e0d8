# voltvend commands on the appliance find the site's config and store without flags.
export VOLTVEND_CONFIG=/var/lib/voltvend/site/voltvend.toml
export VOLTVEND_STORE=/var/lib/voltvend/site/voltvend.redb
