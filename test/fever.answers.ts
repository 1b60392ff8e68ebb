// The acceptance search over the Fever fixtures (response_1 → 2 → 3): what /search answers once
// snapshot 3 is ingested, whether through the pipeline or the services as processes.
import type { EventRow } from '@marquee/db';

export const ACCEPTANCE_WINDOW = '?starts_at=2021-02-01T00:00:00Z&ends_at=2022-07-03T00:00:00Z';

/** An event of the legacy /search answer, without its id. */
export type FeverAnswer = Pick<
  EventRow,
  'title' | 'start_date' | 'start_time' | 'end_date' | 'end_time' | 'min_price' | 'max_price'
>;

/** 291, 322 and 1591 at their latest values, in the answer's order. */
export const ACCEPTANCE_EVENTS: readonly FeverAnswer[] = [
  {
    title: 'Pantomima Full',
    start_date: '2021-02-10',
    start_time: '20:00:00',
    end_date: '2021-02-10',
    end_time: '21:30:00',
    min_price: 55,
    max_price: 55,
  },
  {
    title: 'Camela en concierto',
    start_date: '2021-06-30',
    start_time: '21:00:00',
    end_date: '2021-06-30',
    end_time: '21:30:00',
    min_price: 15,
    max_price: 30,
  },
  {
    title: 'Los Morancos',
    start_date: '2021-07-31',
    start_time: '20:00:00',
    end_date: '2021-07-31',
    end_time: '21:00:00',
    min_price: 65,
    max_price: 75,
  },
];
