const D = JSON.parse(document.getElementById('vrdp-data').textContent);
const map = L.map('map', {preferCanvas: false});
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
// basemap: the force's own tile server (VRDP_MAP_TILE_URL); offline, the shipped streets
const basemap = D.meta.tiles ? L.tileLayer(D.meta.tiles, {maxZoom: 19, attribution: esc(D.meta.tiles_attribution)}) : null;
const streets = L.geoJSON(D.streets, {interactive: false,
  style: {className: 'vrdp-street', color: '#9a9a9a', weight: 1, opacity: 0.8}});
const wards = L.geoJSON(D.wards, {style: {className: 'vrdp-ward', color: '#555', weight: 1, fill: false}})
  .bindTooltip(l => esc(l.feature.properties.name));
// risk cells are 50 m: a stroke keeps them visible at force scale
const riskColour = p => p.high_risk ? '#d7301f' : '#fc8d59';
const risk = L.geoJSON(D.risk, {style: f => ({className: 'vrdp-risk', stroke: true, weight: 3,
  color: riskColour(f.properties), fillColor: riskColour(f.properties), fillOpacity: 0.5})})
  .bindTooltip(l => 'Relative risk ' + esc((l.feature.properties.rrs ?? 0).toFixed ? l.feature.properties.rrs.toFixed(1) : l.feature.properties.rrs));
// public reports of feeling unsafe (90 days): context beside the hot spots, never crime
const community = L.geoJSON(D.community || {type: 'FeatureCollection', features: []},
  {style: {className: 'vrdp-community', color: '#01665e', weight: 2, dashArray: '4 3',
    fillColor: '#35978f', fillOpacity: 0.25}})
  .bindTooltip(l => esc(l.feature.properties.text));
const byId = {};
D.hotspots.features.forEach(f => { byId[f.properties.id] = f.properties; });
const briefing = p => `<div class="vrdp-briefing" data-hotspot="${esc(p.id)}"><b>${esc(p.title)}</b><br>${esc(p.summary)}` +
  (p.windows ? `<br><i>Patrol windows: ${esc(p.windows)}</i>` : '') +
  (p.waypoints && p.waypoints.length ? '<br><span class="vrdp-waypoints">Stand at: ' +
    p.waypoints.map(w => `${esc(w.label)} (${esc(w.what_happened)})`).join('; ') + '</span>' : '') +
  `<br><span class="vrdp-where">Ward: ${esc(p.ward || 'outside the force wards')}` +
  (p.places && p.places.length ? ` · Near: ${esc(p.places.join(', '))}` : '') + '</span>' +
  `<br><small>${esc(p.id)}</small></div>`;
const hotspots = L.geoJSON(D.hotspots, {style: {className: 'vrdp-hotspot', color: '#6a00a8', weight: 3, fillOpacity: 0.35},
  onEachFeature: (f, l) => l.bindPopup(briefing(f.properties))});
const taskings = L.geoJSON(D.taskings, {pointToLayer: (f, ll) => L.circleMarker(ll,
  {className: 'vrdp-tasking', radius: 7, color: '#08519c', fillColor: '#4292c6', fillOpacity: 0.9}),
  onEachFeature: (f, l) => {  // a tasking dot opens its hot spot's briefing
    const p = byId[f.properties.id];
    l.bindPopup(p ? briefing(p) : `<div class="vrdp-briefing" data-hotspot="${esc(f.properties.id)}">Hot spot ${esc(f.properties.id)}</div>`);
    l.bindTooltip('Patrol here today: tap for the briefing');
  }});
if (basemap) basemap.addTo(map);
[streets, wards, risk, community, hotspots, taskings].forEach(l => l.addTo(map));
const overlays = {'Streets': streets, 'Ward boundaries': wards, 'Risky places (risk terrain)': risk,
  'Reports of feeling unsafe (90 days)': community,
  'Hot spots (tap for the briefing)': hotspots, "Today's patrols": taskings};
L.control.layers(basemap ? {'Street map': basemap} : null, overlays, {collapsed: false}).addTo(map);
L.control.scale().addTo(map);
const legend = L.control({position: 'bottomright'});
legend.onAdd = () => {
  const div = L.DomUtil.create('div', 'vrdp-legend');
  const row = (style, text) => `<div><span class="swatch" style="${style}"></span>${text}</div>`;
  div.innerHTML = '<b>Legend</b>' +
    row('background:rgba(106,0,168,.35);border:2px solid #6a00a8', 'Hot spot: most harm') +
    row('background:#4292c6;border-radius:50%;border:2px solid #08519c', "Patrol here today") +
    row('background:#d7301f', 'High-risk place') + row('background:#fc8d59', 'Elevated risk') +
    row('background:rgba(53,151,143,.25);border:2px dashed #01665e', 'Reports of feeling unsafe') +
    row('border:1px solid #555', 'Ward boundary') + row('border-top:2px solid #9a9a9a;height:0', 'Street');
  return div;
};
legend.addTo(map);
// first view: the whole force (its wards); hot spots when there are no wards
const b = wards.getBounds().isValid() ? wards.getBounds() : hotspots.getBounds();
if (b.isValid()) map.fitBounds(b); else map.setView([51.75, -1.25], 10);
document.getElementById('meta').textContent = `Patrol map · tasking for ${D.meta.date}` +
  ` · risk layer: ${D.meta.risk_name}` + (D.meta.note ? ' · ' + D.meta.note : '') +
  ` · export ${D.meta.export_version} (${D.meta.tasking_source})`;
// #hotspot=<id> opens that hot spot's briefing (a link from the patrol app)
const want = location.hash.startsWith('#hotspot=') ? decodeURIComponent(location.hash.slice(9)) : null;
if (want) hotspots.eachLayer(l => { if (l.feature.properties.id === want) { map.fitBounds(l.getBounds().pad(2)); l.openPopup(); } });
// #tasking=<id> opens a tasking dot's popup (the same briefing)
const task = location.hash.startsWith('#tasking=') ? decodeURIComponent(location.hash.slice(9)) : null;
if (task) taskings.eachLayer(l => { if (l.feature.properties.id === task) { map.setView(l.getLatLng(), 16); l.openPopup(); } });
document.body.dataset.zoom = map.getZoom();
document.body.dataset.ready = 'yes';
