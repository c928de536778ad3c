from aiohttp import web

ROUTES: tuple[web.RouteDef, ...] = ()
