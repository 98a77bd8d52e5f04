"""Pages of the queue: 【排队设置】 (settings), 【叫号】 (counter), 【排队统计】 (stats), and the
kiosk and TV screens that devices open with their token (screens)."""

from server.queue.pages import counter, screens, settings, stats

ROUTES = [*settings.ROUTES, *counter.ROUTES, *stats.ROUTES, *screens.ROUTES]
