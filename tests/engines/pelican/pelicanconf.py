SITENAME = "Testblog"
SITEURL = ""
TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "de"
PATH = "content"
RELATIVE_URLS = False
FEED_ALL_ATOM = "feeds/all.atom.xml"
DEFAULT_PAGINATION = False
