const D = JSON.parse(document.getElementById('vrdp-data').textContent);
const map = L.map('map', {preferCanvas: false});
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const wards = L.geoJSON(D.wards, {style: {className: 'vrdp-ward', color: '#555', weight: 1, fill: false}})
  .bindTooltip(l => esc(l.feature.properties.name));
const risk = L.geoJSON(D.risk, {style: f => ({className: 'vrdp-risk', stroke: false, fillOpacity: 0.45,
  fillColor: f.properties.high_risk ? '#d7301f' : (f.properties.rrs > 1 ? '#fc8d59' : '#fee8c8')})});
const briefing = p => `<div class="vrdp-briefing" data-hotspot="${esc(p.id)}"><b>${esc(p.title)}</b><br>${esc(p.summary)}` +
  (p.windows ? `<br><i>Patrol windows: ${esc(p.windows)}</i>` : '') + `<br><small>${esc(p.id)}${p.ward ? " · " + esc(p.ward) : ""}</small></div>`;
const hotspots = L.geoJSON(D.hotspots, {style: {className: 'vrdp-hotspot', color: '#6a00a8', weight: 2, fillOpacity: 0.35},
  onEachFeature: (f, l) => l.bindPopup(briefing(f.properties))});
const taskings = L.geoJSON(D.taskings, {pointToLayer: (f, ll) => L.circleMarker(ll,
  {className: 'vrdp-tasking', radius: 7, color: '#08519c', fillColor: '#4292c6', fillOpacity: 0.9})})
  .bindTooltip(l => 'Tasked today: ' + esc(l.feature.properties.id));
[wards, risk, hotspots, taskings].forEach(l => l.addTo(map));
L.control.layers(null, {'Ward boundaries': wards, 'Risk terrain': risk, 'Hot spots (briefings)': hotspots,
  "Today's taskings": taskings}, {collapsed: false}).addTo(map);
L.control.scale().addTo(map);
const b = hotspots.getBounds().isValid() ? hotspots.getBounds() : wards.getBounds();
if (b.isValid()) map.fitBounds(b.pad(0.1)); else map.setView([51.75, -1.25], 10);
document.getElementById('meta').textContent = `Export ${D.meta.export_version} · taskings for ${D.meta.date} (${D.meta.tasking_source})` +
  ` · risk terrain: ${D.meta.risk_source}` + (D.meta.note ? ' · ' + D.meta.note : '');
// #hotspot=<id> opens that hot spot's briefing (a link from the patrol app)
const want = location.hash.startsWith('#hotspot=') ? decodeURIComponent(location.hash.slice(9)) : null;
if (want) hotspots.eachLayer(l => { if (l.feature.properties.id === want) { map.fitBounds(l.getBounds().pad(2)); l.openPopup(); } });
document.body.dataset.ready = 'yes';
