"""Pages of the queue: 【排队设置】 (settings), 【叫号】 (counter), 【排队统计】 (stats), and the
kiosk and TV screens that devices open with their token (screens), 【预约管理】 (appointments) and the
public booking page (booking)."""

from server.queue.pages import appointments, booking, counter, screens, settings, stats

ROUTES = [*settings.ROUTES, *counter.ROUTES, *stats.ROUTES, *screens.ROUTES, *appointments.ROUTES, *booking.ROUTES]
