/**
 * Synthetic marketplace events for the `examples/marketplace` registry, which `larder demo` feeds
 * in: article CDC, app opens, region changes, keyword alerts, searches and article views.
 * Deterministic for a given seed.
 */
export interface GeneratedEvent {
  readonly stream: string;
  readonly topic: string;
  readonly body: Record<string, unknown>;
}

const TITLES = [
  'iPad Air',
  'Baby stroller',
  'Camping chair',
  'Road bike',
  'Nintendo Switch',
  'Desk lamp',
  'Rice cooker',
];
const KEYWORDS = ['bike', 'stroller', 'ipad', 'camping', 'lego', 'sofa', 'monitor', 'switch'];
const OS = ['ios', 'android'];

export interface GeneratorOptions {
  readonly users: number;
  readonly articles: number;
  readonly seed?: number;
}

export class MarketplaceGenerator {
  readonly #users: number;
  readonly #articles: number;
  /** Live articles get ids after the seeded ones: what the enrichers work on as the demo runs. */
  #nextArticle: number;
  #state: number;
  #sequence = 0;
  // Ids stay unique across demo restarts, so a restarted demo adds rows instead of rewriting old ones.
  readonly #runId = Date.now().toString(36);

  constructor(options: GeneratorOptions) {
    this.#users = options.users;
    this.#articles = options.articles;
    this.#nextArticle = options.articles + 1;
    this.#state = options.seed ?? 42;
  }

  /** Events that give every user and article a value: run once before the live stream. */
  *seedEvents(now = Date.now()): Generator<GeneratedEvent> {
    for (let id = 1; id <= this.#articles; id++) yield this.articleCreated(id, now);
    for (let id = 1; id <= this.#users; id++) {
      yield this.client(id, 'app_open', { device: { os: this.#pick(OS) } }, now);
      yield this.server('user_profile', 'region_changed', { user_id: id, region_id: 1 + this.#int(50) }, now);
      yield this.client(id, 'keyword_alert_on', { params: { keyword: this.#pick(KEYWORDS) } }, now);
      for (let i = 0; i < 5; i++) yield this.view(id, now - (5 - i) * 60_000);
      // A first search: the user's interest vector (enricher search_embedding) for rankBy.
      const query = this.#pick(KEYWORDS);
      yield this.client(id, 'search', { params: { query, result_count: this.#int(300) } }, now - 1000);
    }
  }

  /** One live event, drawn with a realistic mix (mostly views). */
  next(now = Date.now()): GeneratedEvent {
    const user = 1 + this.#int(this.#users);
    const roll = this.#int(100);
    if (roll < 70) return this.view(user, now);
    if (roll < 85) {
      const query = this.#pick(KEYWORDS);
      return this.client(user, 'search', { params: { query, result_count: this.#int(300) } }, now);
    }
    if (roll < 90) return this.client(user, 'app_open', { device: { os: this.#pick(OS) } }, now);
    if (roll < 95) {
      const on = this.#int(2) === 0;
      const name = on ? 'keyword_alert_on' : 'keyword_alert_off';
      return this.client(user, name, { params: { keyword: this.#pick(KEYWORDS) } }, now);
    }
    if (roll < 98) return this.articleCreated(1 + this.#int(this.#articles), now);
    return this.articleCreated(this.#nextArticle++, now, 'created');
  }

  /** The id of the newest live article, if one was created yet. */
  get newestArticle(): number | undefined {
    return this.#nextArticle > this.#articles + 1 ? this.#nextArticle - 1 : undefined;
  }

  view(user: number, ts: number): GeneratedEvent {
    const article = 1 + this.#int(this.#articles);
    const v2 = this.#int(2) === 0;
    const params = v2 ? { article_id_v2: article } : { article_id_v1: article };
    const country = this.#int(10) === 0 ? 'jp' : 'kr';
    return this.client(
      user,
      v2 ? 'view_article_v2' : 'view_article_v1',
      { params, country_code: country },
      ts,
    );
  }

  articleCreated(id: number, ts: number, type: 'created' | 'updated' = 'updated'): GeneratedEvent {
    const title = `${this.#pick(TITLES)} #${id}`;
    const after = { title, price: 1000 * (1 + this.#int(500)), category_id: 1 + this.#int(30) };
    return this.server('cdc_article', type, { article_id: id, after }, ts);
  }

  client(user: number, name: string, extra: Record<string, unknown>, ts: number): GeneratedEvent {
    const body = {
      event_id: this.#eventId(),
      event_name: name,
      user_id: user,
      ts,
      country_code: 'kr',
      ...extra,
    };
    return { stream: 'client_event', topic: 'client_event_cleansed', body };
  }

  server(topic: string, type: string, extra: Record<string, unknown>, ts: number): GeneratedEvent {
    return { stream: 'server_event', topic, body: { event_id: this.#eventId(), type, ts, ...extra } };
  }

  #eventId(): string {
    this.#sequence += 1;
    return `demo-${this.#runId}-${this.#sequence}`;
  }

  // mulberry32: small, fast and deterministic.
  #int(bound: number): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * bound);
  }

  #pick<T>(items: readonly T[]): T {
    return items[this.#int(items.length)] as T;
  }
}
