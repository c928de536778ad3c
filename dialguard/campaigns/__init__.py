"""Campaign scripts: registered per tenant and campaign, screened for banned phrases, and the
approval the gate asks for before a campaign call (``script.unapproved``)."""
