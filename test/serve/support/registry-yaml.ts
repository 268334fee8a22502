/**
 * The registry the serving tests (support/test-server.ts) run on: users with two action
 * features (one joined), articles. With `cachedRows`, the joined action feature's rows are kept
 * in the in-process cache level (the same row objects are served again, as in the embedded
 * runtime).
 */
export function servingRegistryYaml(
  upstreamBase = 'http://127.0.0.1:9',
  cachedRows = false,
): Record<string, string> {
  const rowsCache = cachedRows ? '\n      cache: {levels: [local], ttl: 1h}' : '';
  return {
    'entities.yaml': `
entities:
  user: {prefix: "u:", idType: int, idField: user_id}
  flea_article: {prefix: "c:flea:", idType: int, idField: article_id, plural: flea_articles}
  seller: {prefix: "s:", idType: string, idField: seller_id}
streams:
  ev: {source: http, subTopicField: name, timestampField: ts, eventIdField: event_id}
`,
    'user.yaml': `
features:
  user:
    os:
      events: [{streamName: ev, topic: t, subTopic: app_open, fields: [{name: os, type: string}]}]
    region_id:
      events: [{streamName: ev, topic: t, subTopic: region, fields: [{name: region_id, type: int}]}]
    notification_keywords:
      containerType: set
      events: [{streamName: ev, topic: t, subTopic: kw, fields: [{name: keyword, type: string}]}]
    recent_view_articles:
      featureType: action
      maxCount: 100${rowsCache}
      join: {field: article_id, entity: flea_article, as: article}
      events:
        - streamName: ev
          topic: t
          subTopic: view
          fields: [{name: article_id, type: int}, {name: source, type: string, required: false}]
    recent_search_keywords:
      featureType: action
      maxCount: 50
      events: [{streamName: ev, topic: t, subTopic: search, fields: [{name: keyword, type: string}]}]
`,
    'flea_article.yaml': `
features:
  flea_article:
    title:
      events: [{streamName: ev, topic: cdc, fields: [{name: title, type: string}]}]
    price:
      events: [{streamName: ev, topic: cdc, fields: [{name: price, type: int}]}]
    category:
      events: [{streamName: ev, topic: cdc, fields: [{name: category, type: int}]}]
    seller_id:
      events: [{streamName: ev, topic: cdc, fields: [{name: seller_id, type: string}]}]
    recent_buyers:
      featureType: action
      maxCount: 20
      join: {field: seller_id, entity: seller, as: seller}
      events: [{streamName: ev, topic: buy, fields: [{name: buyer_id, type: int}, {name: seller_id, type: string}]}]
  seller:
    nickname:
      events: [{streamName: ev, topic: seller, fields: [{name: nickname, type: string}]}]
`,
    'on-demand.yaml': `
onDemand:
  user:
    blocked_users:
      url: "${upstreamBase}/blocked/{id}"
      method: GET
      timeout: 500ms
      fallback: []
      type: "list<int>"
      breaker: {failures: 3, reset: 400ms}
  flea_article:
    view_count:
      url: "${upstreamBase}/views?ids={ids}"
      method: GET
      timeout: 500ms
      fallback: 0
      type: int
`,
  };
}
